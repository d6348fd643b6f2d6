// Package gitlabapi is the little of GitLab's REST API (v4) that the scheduled release job
// needs: it proposes a change to files as one merge request, opened once and updated after.
//
// The token goes only into the PRIVATE-TOKEN header; no error or result holds it.
package gitlabapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Client talks to one project.
type Client struct {
	API     string // the API root, as GitLab CI's CI_API_V4_URL: https://gitlab.example/api/v4
	Project string // the project's ID or full path (CI_PROJECT_ID)
	Token   string // an access token with the api scope
	HTTP    *http.Client
}

// MergeRequest is what the API says of a merge request that Propose uses.
type MergeRequest struct {
	IID          int    `json:"iid"`
	Title        string `json:"title"`
	Description  string `json:"description"`
	SourceBranch string `json:"source_branch"`
	TargetBranch string `json:"target_branch"`
	WebURL       string `json:"web_url"`
}

// Proposal is a change to propose: files, as they should read, committed on Branch on top of
// Target, and the merge request from Branch into Target.
type Proposal struct {
	Branch, Target     string
	Files              map[string][]byte // path in the repository -> content
	CommitMessage      string
	Title, Description string
	// Label marks the merge requests of the proposer: an open one of another branch is
	// closed as superseded when this one is opened or updated.
	Label string
}

// Outcome is what Propose did.
type Outcome struct {
	MergeRequest MergeRequest
	Created      bool // a new merge request
	Committed    bool // Branch got a new commit
	Edited       bool // an open merge request's title or description changed
	Superseded   []MergeRequest
	// Declined is set when a maintainer closed the merge request of Branch unmerged: then
	// Propose changes nothing, and MergeRequest is that one.
	Declined bool
}

// Propose makes Branch hold p.Files on top of Target, unless it already does, and opens
// the merge request of Branch or updates the open one: however often it runs for the same
// change, there is one merge request. Open merge requests with p.Label from other branches
// are closed with a note pointing to this one. A change whose merge request a maintainer
// closed is not proposed again.
func (c *Client) Propose(ctx context.Context, p Proposal) (Outcome, error) {
	var out Outcome
	var open, closed []MergeRequest
	for _, s := range []struct {
		state string
		list  *[]MergeRequest
	}{{"opened", &open}, {"closed", &closed}} {
		q := url.Values{"state": {s.state}, "source_branch": {p.Branch}, "target_branch": {p.Target}}
		if err := c.do(ctx, http.MethodGet, c.project("merge_requests")+"?"+q.Encode(), nil, s.list); err != nil {
			return out, err
		}
	}
	if len(open) == 0 && len(closed) > 0 {
		out.MergeRequest, out.Declined = closed[0], true
		return out, nil
	}
	same, err := c.branchHolds(ctx, p.Branch, p.Files)
	if err != nil {
		return out, err
	}
	if !same {
		if err := c.commit(ctx, p); err != nil {
			return out, err
		}
		out.Committed = true
	}
	if len(open) > 0 {
		out.MergeRequest = open[0]
		if open[0].Title != p.Title || open[0].Description != p.Description {
			body := map[string]any{"title": p.Title, "description": p.Description}
			path := c.project("merge_requests", strconv.Itoa(open[0].IID))
			if err := c.do(ctx, http.MethodPut, path, body, &out.MergeRequest); err != nil {
				return out, err
			}
			out.Edited = true
		}
	} else {
		body := map[string]any{
			"source_branch": p.Branch, "target_branch": p.Target,
			"title": p.Title, "description": p.Description,
			"remove_source_branch": true,
		}
		if p.Label != "" {
			body["labels"] = p.Label
		}
		if err := c.do(ctx, http.MethodPost, c.project("merge_requests"), body, &out.MergeRequest); err != nil {
			return out, err
		}
		out.Created = true
	}
	if p.Label != "" {
		if out.Superseded, err = c.closeOthers(ctx, p, out.MergeRequest); err != nil {
			return out, err
		}
	}
	return out, nil
}

// branchHolds reports whether branch exists and has every file with the wanted content.
func (c *Client) branchHolds(ctx context.Context, branch string, files map[string][]byte) (bool, error) {
	for _, path := range slices.Sorted(maps.Keys(files)) {
		var got []byte
		q := url.Values{"ref": {branch}}
		err := c.do(ctx, http.MethodGet, c.project("repository", "files", path, "raw")+"?"+q.Encode(), nil, &got)
		if apiErr, ok := errors.AsType[*Error](err); ok && apiErr.Status == http.StatusNotFound {
			return false, nil // no such branch, or no such file on it
		}
		if err != nil {
			return false, err
		}
		if !bytes.Equal(got, files[path]) {
			return false, nil
		}
	}
	return true, nil
}

// commit makes Branch Target plus the files, in one commit (force: an older state of the
// branch is replaced, so that it never falls behind Target's other changes).
func (c *Client) commit(ctx context.Context, p Proposal) error {
	var actions []map[string]string
	for _, path := range slices.Sorted(maps.Keys(p.Files)) {
		actions = append(actions, map[string]string{"action": "update", "file_path": path, "content": string(p.Files[path])})
	}
	body := map[string]any{
		"branch": p.Branch, "start_branch": p.Target, "force": true,
		"commit_message": p.CommitMessage, "actions": actions,
	}
	return c.do(ctx, http.MethodPost, c.project("repository", "commits"), body, nil)
}

func (c *Client) closeOthers(ctx context.Context, p Proposal, mr MergeRequest) ([]MergeRequest, error) {
	var labelled []MergeRequest
	q := url.Values{"state": {"opened"}, "labels": {p.Label}, "per_page": {"100"}}
	if err := c.do(ctx, http.MethodGet, c.project("merge_requests")+"?"+q.Encode(), nil, &labelled); err != nil {
		return nil, err
	}
	var closed []MergeRequest
	for _, old := range labelled {
		if old.IID == mr.IID || old.SourceBranch == p.Branch {
			continue
		}
		iid := strconv.Itoa(old.IID)
		note := map[string]any{"body": fmt.Sprintf("Superseded by !%d (%s).", mr.IID, p.Title)}
		if err := c.do(ctx, http.MethodPost, c.project("merge_requests", iid, "notes"), note, nil); err != nil {
			return closed, err
		}
		if err := c.do(ctx, http.MethodPut, c.project("merge_requests", iid), map[string]any{"state_event": "close"}, nil); err != nil {
			return closed, err
		}
		closed = append(closed, old)
	}
	return closed, nil
}

// project is the API path of the project, with further segments, each escaped.
func (c *Client) project(segments ...string) string {
	path := "/projects/" + url.PathEscape(c.Project)
	for _, s := range segments {
		path += "/" + url.PathEscape(s)
	}
	return path
}

// Error is an answer of the API other than success.
type Error struct {
	Method, Path string // Path without the API root
	Status       int
	Message      string // the API's message, if it gave one
}

func (e *Error) Error() string {
	s := fmt.Sprintf("GitLab API %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized:
		s += " (is the token valid and unexpired?)"
	case http.StatusForbidden:
		s += " (does the token have the api scope and the Developer role?)"
	}
	return s
}

// do sends a request with a JSON body (nil for none) and decodes the answer into out: JSON,
// or the raw bytes for a *[]byte; nil ignores it.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	fail := func(format string, args ...any) error {
		return c.redact(fmt.Errorf("GitLab API %s %s: "+format, append([]any{method, path}, args...)...))
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fail("%w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.API, "/")+path, rd)
	if err != nil {
		return fail("%w", err)
	}
	req.Header.Set("PRIVATE-TOKEN", c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fail("%w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return fail("reading the answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.redact(&Error{Method: method, Path: path, Status: resp.StatusCode, Message: apiMessage(data)})
	}
	switch out := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*out = data
		return nil
	default:
		if err := json.Unmarshal(data, out); err != nil {
			return fail("reading the answer: %w", err)
		}
		return nil
	}
}

// apiMessage is the message of an error answer: {"message": ...} or {"error": ...}.
func apiMessage(data []byte) string {
	var m struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(data, &m) != nil {
		return strings.TrimSpace(string(data[:min(len(data), 200)]))
	}
	if m.Message != nil {
		if s, ok := m.Message.(string); ok {
			return s
		}
		b, _ := json.Marshal(m.Message)
		return string(b)
	}
	return m.Error
}

// redact keeps the token out of err's text, whatever a server or transport put in it.
func (c *Client) redact(err error) error {
	if c.Token == "" || !strings.Contains(err.Error(), c.Token) {
		return err
	}
	if apiErr, ok := err.(*Error); ok {
		apiErr.Message = strings.ReplaceAll(apiErr.Message, c.Token, "[MASKED]")
		return apiErr
	}
	return errors.New(strings.ReplaceAll(err.Error(), c.Token, "[MASKED]"))
}
