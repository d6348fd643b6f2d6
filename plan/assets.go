package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The production asset builds of Stud.IP's layouts, as its own Makefile runs them: up to
// 6.2 the target webpack-prod runs `npm run webpack-prod`; since main moved to rspack
// (2026-06) the target assets-prod runs `npm run build -- --mode=production`. Both write
// public/assets.
var (
	webpackProd     = []string{"npm", "run", "webpack-prod"}
	buildProduction = []string{"npm", "run", "build", "--", "--mode=production"}
)

// AssetCommand chooses the command that builds a tree's public/assets from the scripts of
// its package.json: webpack-prod if the tree defines it, else build in production mode.
func AssetCommand(scripts map[string]string) ([]string, error) {
	switch {
	case scripts["webpack-prod"] != "":
		return slices.Clone(webpackProd), nil
	case scripts["build"] != "":
		return slices.Clone(buildProduction), nil
	}
	return nil, &AssetError{Scripts: slices.Sorted(maps.Keys(scripts))}
}

// AssetError is a tree whose package.json has no script that AssetCommand knows.
type AssetError struct {
	Scripts []string // the scripts package.json defines, sorted
}

func (e *AssetError) Error() string {
	found := "none"
	if len(e.Scripts) > 0 {
		found = strings.Join(e.Scripts, ", ")
	}
	return fmt.Sprintf("choosing the asset command: package.json has neither a webpack-prod nor a build script (its scripts: %s); "+
		"set the command with assets: [npm, run, ...] in the entry of versions.yaml", found)
}

// PackageScripts reads the scripts of a package.json.
func PackageScripts(packageJSON []byte) (map[string]string, error) {
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	if err := json.Unmarshal(packageJSON, &pkg); err != nil {
		return nil, fmt.Errorf("reading the scripts of package.json: %w", err)
	}
	return pkg.Scripts, nil
}
