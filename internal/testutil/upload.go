package testutil

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// UploadFile posts a form with one file of size bytes in the field "file" to url, as a browser
// uploads it, streaming the content (a test's file may be hundreds of megabytes), and returns
// the answer's status and body. A server may refuse the body before reading it: that is an
// answer too.
func UploadFile(t testing.TB, url string, size int64) (int, string) {
	t.Helper()
	var head bytes.Buffer
	form := multipart.NewWriter(&head)
	if _, err := form.CreateFormFile("file", "upload.bin"); err != nil {
		t.Fatal(err)
	}
	tail := "\r\n--" + form.Boundary() + "--\r\n"
	body := io.MultiReader(bytes.NewReader(head.Bytes()), io.LimitReader(zeros{}, size), strings.NewReader(tail))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", form.FormDataContentType())
	// Ask before sending, as curl does for large bodies: a server that refuses by the length
	// answers at once.
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("uploading %d bytes to %s: %v", size, url, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("uploading %d bytes to %s: reading the answer: %v", size, url, err)
	}
	return resp.StatusCode, string(answer)
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// CheckUpload uploads a file of size bytes to url (UploadFile) and checks that PHP stored it
// whole (taken) or that the web server refused the request with 413 before PHP saw it. The
// script at url answers as the fixtures' upload scripts do: {"file": {"error": PHP's error
// code, "size": the size it stored}}, without "file" when PHP took none.
func CheckUpload(t testing.TB, url string, size int64, taken bool) {
	t.Helper()
	status, body := UploadFile(t, url, size)
	if !taken {
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("uploading %d bytes: %d, want %d from the web server:\n%s", size, status, http.StatusRequestEntityTooLarge, body)
		}
		return
	}
	var got struct {
		File *struct {
			Error int   `json:"error"`
			Size  int64 `json:"size"`
		} `json:"file"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("uploading %d bytes: %d:\n%s", size, status, body)
	}
	if got.File == nil || got.File.Error != 0 || got.File.Size != size {
		t.Errorf("uploading %d bytes: PHP saw %s, want the whole file without error", size, body)
	}
}

// CheckUploadLimits checks PHP_UPLOAD_LIMIT end to end through a web server in front of PHP,
// in parallel subtests: a file above the default limit is refused by the web server (413)
// before PHP reads it, and stored by PHP once PHP_UPLOAD_LIMIT allows it in both; a lower
// limit refuses less. serve starts the web server and PHP with PHP_UPLOAD_LIMIT=limit (unset
// when limit is "") and returns the URL of an upload script as CheckUpload wants it.
func CheckUploadLimits(t *testing.T, serve func(t *testing.T, limit string) (url string)) {
	t.Helper()
	const mib = 1 << 20
	cases := []struct {
		name  string
		limit string // "": the default
		size  int64
		taken bool
	}{
		{"above the default limit", "", 129 * mib, false},
		{"the same, once PHP_UPLOAD_LIMIT allows it", "256M", 129 * mib, true},
		{"within a lowered limit", "2M", 1 * mib, true},
		{"above a lowered limit", "2M", 3 * mib, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			CheckUpload(t, serve(t, c.limit), c.size, c.taken)
		})
	}
}
