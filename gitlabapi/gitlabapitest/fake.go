// Package gitlabapitest is a fake GitLab REST API (v4) for one project: the endpoints of
// branches' files, commits, merge requests and notes that package gitlabapi calls, with
// their state kept in memory. Only tests import it.
package gitlabapitest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is the fake; URL + "/api/v4" is its API root.
type Server struct {
	*httptest.Server
	Project, Token string

	mu       sync.Mutex
	branches map[string]map[string]string // branch -> path -> content
	commits  map[string]int               // branch -> commits made through the API
	mrs      []*MergeRequest
	requests []Request
}

// MergeRequest is a merge request of the fake.
type MergeRequest struct {
	IID                        int
	Title, Description, State  string
	SourceBranch, TargetBranch string
	Labels                     []string
	Notes                      []string
}

// Request is one request the fake received, as sent.
type Request struct {
	Method, URL string // URL: the escaped path and query
	Header      http.Header
	Body        string
}

// New starts a fake of project (its ID) whose default branch main holds files; requests
// must carry token in PRIVATE-TOKEN.
func New(t testing.TB, project, token string, files map[string]string) *Server {
	s := &Server{Project: project, Token: token,
		branches: map[string]map[string]string{"main": maps.Clone(files)}, commits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// API is the API root, as CI_API_V4_URL.
func (s *Server) API() string { return s.URL + "/api/v4" }

// MergeRequests are all merge requests, in the order they were opened.
func (s *Server) MergeRequests() []MergeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MergeRequest, len(s.mrs))
	for i, mr := range s.mrs {
		out[i] = *mr
		out[i].Notes = append([]string(nil), mr.Notes...)
	}
	return out
}

// File is a file of a branch; false when either is missing.
func (s *Server) File(branch, path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.branches[branch][path]
	return c, ok
}

// Decline closes merge request iid unmerged, as a maintainer who declines it does.
func (s *Server) Decline(iid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mrs[iid-1].State = "closed"
}

// Commits is how many commits the API made on branch.
func (s *Server) Commits(branch string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits[branch]
}

// Requests are the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var (
	mrPath    = regexp.MustCompile(`^/merge_requests(?:/([0-9]+)(/notes)?)?$`)
	filePath  = regexp.MustCompile(`^/repository/files/([^/]+)/raw$`)
	commitsRe = regexp.MustCompile(`^/repository/commits$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: string(body)})
	if r.Header.Get("PRIVATE-TOKEN") != s.Token {
		answer(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	prefix := "/api/v4/projects/" + url.PathEscape(s.Project)
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !ok {
		answer(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
		return
	}
	q := r.URL.Query()
	switch m := mrPath.FindStringSubmatch(rest); {
	case m != nil && m[1] == "" && r.Method == http.MethodGet:
		var list []map[string]any
		for _, mr := range s.mrs {
			if q.Has("state") && mr.State != q.Get("state") ||
				q.Has("source_branch") && mr.SourceBranch != q.Get("source_branch") ||
				q.Has("target_branch") && mr.TargetBranch != q.Get("target_branch") ||
				q.Has("labels") && !slices.Contains(mr.Labels, q.Get("labels")) {
				continue
			}
			list = append(list, s.mrJSON(mr))
		}
		answer(w, http.StatusOK, list)
	case m != nil && m[1] == "" && r.Method == http.MethodPost:
		var in struct {
			SourceBranch string `json:"source_branch"`
			TargetBranch string `json:"target_branch"`
			Title        string `json:"title"`
			Description  string `json:"description"`
			Labels       string `json:"labels"`
		}
		if json.Unmarshal(body, &in) != nil || in.SourceBranch == "" || in.TargetBranch == "" || in.Title == "" {
			answer(w, http.StatusBadRequest, map[string]string{"error": "source_branch, target_branch, title are missing"})
			return
		}
		if s.branches[in.SourceBranch] == nil {
			answer(w, http.StatusBadRequest, map[string]string{"message": "Invalid source branch"})
			return
		}
		for _, mr := range s.mrs {
			if mr.State == "opened" && mr.SourceBranch == in.SourceBranch && mr.TargetBranch == in.TargetBranch {
				answer(w, http.StatusConflict, map[string]any{"message": []string{"Another open merge request already exists for this source branch: !" + strconv.Itoa(mr.IID)}})
				return
			}
		}
		mr := &MergeRequest{IID: len(s.mrs) + 1, Title: in.Title, Description: in.Description, State: "opened",
			SourceBranch: in.SourceBranch, TargetBranch: in.TargetBranch}
		if in.Labels != "" {
			mr.Labels = strings.Split(in.Labels, ",")
		}
		s.mrs = append(s.mrs, mr)
		answer(w, http.StatusCreated, s.mrJSON(mr))
	case m != nil && m[1] != "":
		iid, _ := strconv.Atoi(m[1])
		if iid < 1 || iid > len(s.mrs) {
			answer(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
			return
		}
		mr := s.mrs[iid-1]
		var in map[string]string
		json.Unmarshal(body, &in)
		switch {
		case m[2] != "" && r.Method == http.MethodPost:
			mr.Notes = append(mr.Notes, in["body"])
			answer(w, http.StatusCreated, map[string]any{"body": in["body"]})
		case m[2] == "" && r.Method == http.MethodPut:
			if v, ok := in["title"]; ok {
				mr.Title = v
			}
			if v, ok := in["description"]; ok {
				mr.Description = v
			}
			if in["state_event"] == "close" {
				mr.State = "closed"
			}
			answer(w, http.StatusOK, s.mrJSON(mr))
		default:
			answer(w, http.StatusMethodNotAllowed, map[string]string{"message": "405 Method Not Allowed"})
		}
	case filePath.MatchString(rest) && r.Method == http.MethodGet:
		path, _ := url.PathUnescape(filePath.FindStringSubmatch(rest)[1])
		content, ok := s.branches[q.Get("ref")][path]
		if !ok {
			answer(w, http.StatusNotFound, map[string]string{"message": "404 File Not Found"})
			return
		}
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, content)
	case commitsRe.MatchString(rest) && r.Method == http.MethodPost:
		s.commit(w, body)
	default:
		answer(w, http.StatusNotFound, map[string]string{"message": "404 Not Found: " + r.Method + " " + rest})
	}
}

func (s *Server) commit(w http.ResponseWriter, body []byte) {
	var in struct {
		Branch        string `json:"branch"`
		StartBranch   string `json:"start_branch"`
		CommitMessage string `json:"commit_message"`
		Force         bool   `json:"force"`
		Actions       []struct {
			Action   string `json:"action"`
			FilePath string `json:"file_path"`
			Content  string `json:"content"`
		} `json:"actions"`
	}
	if json.Unmarshal(body, &in) != nil || in.Branch == "" || in.CommitMessage == "" || len(in.Actions) == 0 {
		answer(w, http.StatusBadRequest, map[string]string{"error": "branch, commit_message, actions are missing"})
		return
	}
	files := s.branches[in.Branch]
	if files == nil || in.Force {
		start, ok := s.branches[in.StartBranch]
		if !ok {
			answer(w, http.StatusBadRequest, map[string]string{"message": "You can only create or edit files when you are on a branch"})
			return
		}
		files = maps.Clone(start)
	} else {
		files = maps.Clone(files)
	}
	for _, a := range in.Actions {
		if _, exists := files[a.FilePath]; a.Action != "update" || !exists {
			answer(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("A file with this name doesn't exist: %s", a.FilePath)})
			return
		}
		files[a.FilePath] = a.Content
	}
	s.branches[in.Branch] = files
	s.commits[in.Branch]++
	answer(w, http.StatusCreated, map[string]any{"id": fmt.Sprintf("%040d", s.commits[in.Branch]), "title": in.CommitMessage})
}

func (s *Server) mrJSON(mr *MergeRequest) map[string]any {
	return map[string]any{"iid": mr.IID, "title": mr.Title, "description": mr.Description, "state": mr.State,
		"source_branch": mr.SourceBranch, "target_branch": mr.TargetBranch, "labels": mr.Labels,
		"web_url": fmt.Sprintf("%s/project/-/merge_requests/%d", s.URL, mr.IID)}
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
