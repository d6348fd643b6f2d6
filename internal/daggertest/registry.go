package daggertest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"
	"sync"
)

// Image is what the fake registry holds under a reference for one platform: the digest the
// reference resolves to (a multi-platform index's, the same for each of its platforms) and
// the image's labels.
type Image struct {
	Digest string
	Labels map[string]string
}

// registry is the fake engine's view of every registry. A reference that nobody set or
// pushed resolves to a digest made from it, with no labels, as a public base image would;
// one marked unreadable fails, as a missing tag or a registry without access does.
type registry struct {
	mu         sync.Mutex
	images     map[string]map[string]Image // reference -> platform -> image
	unreadable map[string]bool
}

// ShareRegistry makes e see and write other's registry, as two CI jobs on different
// runners (and native platforms) see one registry.
func (e *Engine) ShareRegistry(other *Engine) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.registry = other.registry
}

// SetImage makes ref, for platform, resolve to img.
func (e *Engine) SetImage(ref, platform string, img Image) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setImage(ref, platform, img)
}

func (e *Engine) setImage(ref, platform string, img Image) {
	e.registry.mu.Lock()
	defer e.registry.mu.Unlock()
	if e.registry.images == nil {
		e.registry.images = map[string]map[string]Image{}
	}
	if e.registry.images[ref] == nil {
		e.registry.images[ref] = map[string]Image{}
	}
	e.registry.images[ref][platform] = img
	delete(e.registry.unreadable, ref)
}

// SetUnreadable makes every read of ref fail until something is pushed there.
func (e *Engine) SetUnreadable(ref string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.registry.mu.Lock()
	defer e.registry.mu.Unlock()
	if e.registry.unreadable == nil {
		e.registry.unreadable = map[string]bool{}
	}
	e.registry.unreadable[ref] = true
}

// Image is what ref holds for platform, as a pull would find it.
func (e *Engine) Image(ref, platform string) (Image, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.image(ref, platform)
}

func (e *Engine) image(ref, platform string) (Image, error) {
	e.registry.mu.Lock()
	defer e.registry.mu.Unlock()
	if e.registry.unreadable[ref] {
		return Image{}, fmt.Errorf("failed to resolve source metadata for %s: not found", ref)
	}
	if img, ok := e.registry.images[ref][platform]; ok {
		return img, nil
	}
	if _, digest, ok := strings.Cut(ref, "@"); ok {
		return Image{Digest: digest}, nil
	}
	sum := sha256.Sum256([]byte(ref))
	return Image{Digest: "sha256:" + hex.EncodeToString(sum[:])}, nil
}

// pulled is the registry image that container n was pulled from: its nearest from call.
func (e *Engine) pulled(n *Node) (string, Image, error) {
	for c := n; c != nil; c = c.Parent {
		if c.Field == "from" {
			address := c.Str("address")
			img, err := e.image(address, c.Platform())
			return address, img, err
		}
	}
	return "", Image{}, fmt.Errorf("fake engine: %s is not pulled from a registry", n)
}

// label answers a container's label: set on the way, else the pulled image's.
func (e *Engine) label(n *Node, name string) (string, error) {
	labels, err := e.labels(n)
	return labels[name], err
}

// imageRef answers the reference with digest of an image just pulled.
func (e *Engine) imageRef(n *Node) (string, error) {
	if n.Field != "from" {
		return "", fmt.Errorf("fake engine: imageRef can only be retrieved immediately after from, not on %s", n)
	}
	address, img, err := e.pulled(n)
	if err != nil {
		return "", err
	}
	name, _, _ := strings.Cut(address, "@")
	return name + "@" + img.Digest, nil
}

// record puts what a publish pushed into the registry: each platform's image, with its
// labels, under address and the index's digest.
func (e *Engine) record(address, digest string, images []*Node) {
	for _, n := range images {
		labels, _ := e.labels(n) // an unreadable pull leaves no labels to record
		e.setImage(address, n.Platform(), Image{Digest: digest, Labels: labels})
	}
}

// labels are the labels of container n: those of the image it was pulled from, if any, and
// those set on its way since; the error is the pull's, as reading a label pulls the image.
func (e *Engine) labels(n *Node) (map[string]string, error) {
	labels := map[string]string{}
	var err error
	for _, c := range n.Chain() {
		switch c.Field {
		case "from":
			var img Image
			_, img, err = e.pulled(c)
			labels = maps.Clone(img.Labels)
			if labels == nil {
				labels = map[string]string{}
			}
		case "dockerBuild":
			labels, err = map[string]string{}, nil
		case "withLabel":
			labels[c.Str("name")] = c.Str("value")
		}
	}
	return labels, err
}
