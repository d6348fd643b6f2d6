package main

import (
	"context"
	"fmt"

	"gitlab.studip.de/studip/docker/pipelines"
)

func runPublish(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "publish", "[--file F] [--version V]... [--base B]... [--dry-run] [--rebuild] [--stage REPO [--platform P]... | --from-stage REPO] [--ref-commit V=COMMIT]... [--jobs N] [--mirror PREFIX]",
		"Builds and smoke-tests the selected targets like `ci test`, then pushes every tag of each\n"+
			"as one multi-platform index. The tags naming one version go first, the floating ones\n"+
			"(6.0, latest, nightly, ...) only after those succeeded. A target whose published images\n"+
			"carry the build IDs this build would give them is not built again (unchanged); only\n"+
			"its tags that point elsewhere are moved. Credentials come from REGISTRY_USERNAME and\n"+
			"REGISTRY_PASSWORD; COSIGN_PRIVATE_KEY and COSIGN_PASSWORD, or SIGSTORE_ID_TOKEN, sign\n"+
			"every pushed image and attest its SBOM.\n\n"+
			"In a CI pipeline with runners per platform, --stage makes a platform job (each platform's\n"+
			"images go to a staging repository, tagged with their build IDs) and --from-stage the\n"+
			"assemble job after them (the staged images become the indexes, pushed, signed, tagged).\n"+
			"The staging login comes from STAGING_REGISTRY_USERNAME and STAGING_REGISTRY_PASSWORD.\n"+
			"Each job resolves a version's git ref itself unless --ref-commit pins it: the generated\n"+
			"pipeline pins every job of a version to the commit its ref named when it was generated.")
	pf := addPipelineFlags(fs, e)
	pf.addRefCommitFlag(fs)
	dryRun := fs.Bool("dry-run", false, "do everything but push; needs no credentials")
	rebuild := fs.Bool("rebuild", false, "build and push every target, unchanged or not")
	stageTo := fs.String("stage", "", "push each platform's images to this staging repository by build ID, nothing to the release repository")
	assembleFrom := fs.String("from-stage", "", "build nothing: push the images staged in this repository as the targets' indexes")
	fs.MarkHidden("source")
	if err := pf.parse(fs, args); err != nil {
		return err
	}
	if *stageTo != "" && *assembleFrom != "" {
		return usagef("--stage and --from-stage: a job either stages images or assembles them; give one")
	}
	if fs.Changed("platform") && *stageTo == "" {
		return usagef("--platform: publish pushes every platform of a target; an index of fewer would replace the multi-platform one (a platform job takes --platform with --stage)")
	}
	if fs.Changed("source") {
		return usagef("--source: publish builds every release from its git ref, so that a pushed image is what Stud.IP tagged; try a local checkout with ci test --source or ci build --source")
	}
	pub := &pipelines.Publish{Username: e.getenv("REGISTRY_USERNAME"), Password: e.getenv("REGISTRY_PASSWORD"),
		DryRun: *dryRun, Rebuild: *rebuild, Sign: signing(e)}
	stage := &pipelines.Stage{Username: e.getenv("STAGING_REGISTRY_USERNAME"), Password: e.getenv("STAGING_REGISTRY_PASSWORD")}
	switch {
	case *stageTo != "":
		// A platform job pushes nothing to the release repository; a login there only reads.
		stage.Repository, pub.StageTo, pub.Sign = *stageTo, stage, pipelines.Signing{}
	case *assembleFrom != "":
		stage.Repository, pub.AssembleFrom = *assembleFrom, stage
	}
	if !pub.DryRun && pub.StageTo == nil && (pub.Username == "" || pub.Password == "") {
		return usagef("REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set to push (or use --dry-run)")
	}
	if !pub.DryRun && stage.Repository != "" && (stage.Username == "" || stage.Password == "") {
		return usagef("STAGING_REGISTRY_USERNAME and STAGING_REGISTRY_PASSWORD must both be set to use the staging repository (or use --dry-run)")
	}
	if !pub.DryRun && pub.StageTo == nil && !pub.Sign.Enabled() {
		fmt.Fprintln(e.stderr, "warning: publishing unsigned and without SBOM attestations: neither COSIGN_PRIVATE_KEY nor SIGSTORE_ID_TOKEN is set")
	}
	p, opts, err := pf.load(e)
	if err != nil {
		return err
	}
	results, err := runPipelines(ctx, e, p, opts, pipelines.Steps{Test: true, Publish: pub})
	if err != nil {
		return err
	}
	verb := "pushed"
	if pub.DryRun {
		verb = "ready to push (dry run)"
	}
	return summarize(e, verb, results, func(r pipelines.Result) []string {
		lines := []string{fmt.Sprintf("%s %s", r.Status, r.Target)}
		for _, ref := range r.Pushed {
			if pub.DryRun {
				lines = append(lines, fmt.Sprintf("would push %s (%s)", ref, platforms(r.Target)))
			} else {
				lines = append(lines, "pushed "+ref)
			}
		}
		return lines
	})
}

// signing is how to sign, from the environment: a key (COSIGN_PASSWORD may be empty, as
// cosign allows) or, without one, a Sigstore identity token.
func signing(e *env) pipelines.Signing {
	if key := e.getenv("COSIGN_PRIVATE_KEY"); key != "" {
		return pipelines.Signing{Key: key, Password: e.getenv("COSIGN_PASSWORD")}
	}
	return pipelines.Signing{IDToken: e.getenv("SIGSTORE_ID_TOKEN")}
}
