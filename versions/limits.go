package versions

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"
)

// A versions file lists a few dozen entries. These bounds refuse a wrong file (a log, a
// generated dump) at once, rather than after seconds and gigabytes of parsing it.
const (
	MaxFileSize = 1 << 20 // bytes
	MaxEntries  = 1000
)

// FileError is a versions file that cannot be read at all: missing, a directory, unreadable.
type FileError struct {
	File string
	Err  error // the cause: fs.ErrNotExist, ErrIsDir, a permission error, ...
}

// ErrIsDir is the cause of a FileError for a directory.
var ErrIsDir = errors.New("is a directory, not a versions file")

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// ReadFile reads the versions file at path. A file larger than MaxFileSize is an *Error,
// found without reading more than that.
func ReadFile(path string) ([]byte, error) {
	r, err := os.Open(path)
	if err != nil {
		if perr, ok := errors.AsType[*fs.PathError](err); ok {
			err = perr.Err // the path is in the FileError already
		}
		return nil, &FileError{File: path, Err: err}
	}
	defer r.Close()
	if fi, err := r.Stat(); err == nil && fi.IsDir() {
		return nil, &FileError{File: path, Err: ErrIsDir}
	}
	data, err := readBounded(r)
	if verr, ok := errors.AsType[*Error](err); ok {
		verr.File = path
	}
	return data, err
}

// readBounded reads r up to MaxFileSize.
func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading versions file: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Problems: []Problem{{Message: fmt.Sprintf(
			"the file is larger than %d KiB, the most a versions file may be; is it the right file?", MaxFileSize>>10)}}}
	}
	return data, nil
}

// fewEnough reports whether the list of versions n holds at most MaxEntries, reporting it
// if not: checking every entry of a list that long would take long and say little.
func (p *parser) fewEnough(n *yaml.Node) bool {
	if n.Kind == yaml.SequenceNode && len(n.Content) > MaxEntries {
		p.add(n, "", "versions lists %d entries, more than the %d a versions file may hold; is it the right file?", len(n.Content), MaxEntries)
		return false
	}
	return true
}
