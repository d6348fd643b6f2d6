package pipelines

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"dagger.io/dagger"
)

// Signing is how pushed images are signed: with a cosign key pair's encrypted private key
// (PEM) and its password, or keyless with an OIDC token that Sigstore accepts (GitLab's
// id_tokens); the zero value publishes unsigned. The values reach the engine only as
// Dagger secrets.
type Signing struct {
	Key, Password string
	IDToken       string
}

// Enabled says whether s signs at all.
func (s Signing) Enabled() bool { return s.Key != "" || s.IDToken != "" }

// credentials are what pushing needs, each handed to the engine once, as a secret.
type credentials struct {
	username string
	password *dagger.Secret
	// dockerConfig is a Docker config.json logged in to the release registry, for the tools
	// that read and write it in a container (syft, cosign).
	dockerConfig *dagger.Secret
	// cosign's environment: the key and its password, or the identity token.
	signing map[string]*dagger.Secret
	stage   *dagger.Secret // the staging repository's password, if any
}

func (p *Pipeline) credentials(ctx context.Context, pub Publish) (*credentials, error) {
	c := &credentials{username: pub.Username, signing: map[string]*dagger.Secret{}}
	var err error
	if pub.Username != "" { // a platform job may have no release login: it only reads there
		if c.password, err = p.secret(ctx, "REGISTRY_PASSWORD", pub.Password); err != nil {
			return nil, err
		}
		config, err := dockerConfig(p.plan.Repository, pub.Username, pub.Password)
		if err != nil {
			return nil, err
		}
		if c.dockerConfig, err = p.secret(ctx, "DOCKER_CONFIG_JSON", config); err != nil {
			return nil, err
		}
	}
	for _, s := range []*Stage{pub.StageTo, pub.AssembleFrom} {
		if s != nil {
			if c.stage, err = p.secret(ctx, "STAGING_REGISTRY_PASSWORD", s.Password); err != nil {
				return nil, err
			}
		}
	}
	var env map[string]string
	switch {
	case pub.Sign.Key != "":
		// Even an empty password: without it in its environment cosign would prompt.
		env = map[string]string{"COSIGN_PRIVATE_KEY": pub.Sign.Key, "COSIGN_PASSWORD": pub.Sign.Password}
	case pub.Sign.IDToken != "":
		env = map[string]string{"SIGSTORE_ID_TOKEN": pub.Sign.IDToken}
	}
	for name, value := range env {
		if c.signing[name], err = p.secret(ctx, name, value); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// secret hands value to the engine as the secret name. It is loaded by ID from here on, so
// that the plaintext goes to the engine in one request (a lazy secret would send it again
// with every call that uses it).
func (p *Pipeline) secret(ctx context.Context, name, value string) (*dagger.Secret, error) {
	id, err := p.dag.SetSecret(name, value).ID(ctx)
	if err != nil {
		return nil, fmt.Errorf("handing %s to the engine: %w", name, err)
	}
	return dagger.Ref[*dagger.Secret](p.dag, id), nil
}

// dockerConfig is a Docker config.json with the login for repository's registry, as the
// tools' registry client (go-containerregistry) looks it up.
func dockerConfig(repository, username, password string) (string, error) {
	host := registryHost(repository)
	if host == "docker.io" {
		host = "https://index.docker.io/v1/"
	}
	auth := base64.StdEncoding.EncodeToString([]byte(username + ":" + password))
	out, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	return string(out), err
}

// registryHost is the registry of a repository reference: its first component if that names
// a host, else Docker Hub.
func registryHost(repository string) string {
	first, _, ok := strings.Cut(repository, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return "docker.io"
}

// withTools mounts the Docker config into a tool's container ctr, readable by its non-root
// user, and points the tool at it.
func (c *credentials) withTools(ctr *dagger.Container) *dagger.Container {
	return ctr.
		WithMountedSecret("/run/docker/config.json", c.dockerConfig, dagger.ContainerWithMountedSecretOpts{Mode: 0o444}).
		WithEnvVariable("DOCKER_CONFIG", "/run/docker")
}
