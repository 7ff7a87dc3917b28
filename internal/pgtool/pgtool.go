// Package pgtool runs the PostgreSQL client tools (pg_dump, pg_restore,
// psql) for packages dbtools and odoozip: it finds them, prepares their
// command with a bounded tail of their stderr, and turns a failed run into a
// one-line error.
//
// The tools inherit the process environment (the PG* connection
// variables), so the password is never on a command line.
package pgtool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// waitDelay bounds how long a cancelled tool's output is waited for.
const waitDelay = 10 * time.Second

// Path finds a PostgreSQL client tool in binDir, or in PATH when binDir is
// empty.
func Path(binDir, name string) (string, error) {
	if binDir == "" {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s not found in PATH: install the PostgreSQL client tools or give their directory", name)
		}
		return p, nil
	}
	p := filepath.Join(binDir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found in %s: %w", name, binDir, err)
	}
	return p, nil
}

// Command prepares a PostgreSQL client tool. It inherits the process
// environment (the PG* connection variables) plus extraEnv; its stderr goes
// to the returned tail and to also, when not nil.
func Command(ctx context.Context, path string, args, extraEnv []string, also io.Writer) (*exec.Cmd, *Tail) {
	cmd := exec.CommandContext(ctx, path, args...) //nolint:gosec // a PostgreSQL client tool with arguments built here
	cmd.Env = append(os.Environ(), extraEnv...)
	tail := &Tail{max: 8 << 10}
	if also != nil {
		cmd.Stderr = io.MultiWriter(tail, also)
	} else {
		cmd.Stderr = tail
	}
	cmd.WaitDelay = waitDelay
	return cmd, tail
}

// Error describes a failed tool run in one line: the tool, its exit status
// and the last lines it wrote to stderr.
func Error(ctx context.Context, name string, err error, tail *Tail) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s interrupted: %w", name, ctxErr)
	}
	msg := tail.LastLines(3)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if msg == "" {
			return fmt.Errorf("%s failed (%s)", name, exitErr.ProcessState)
		}
		return fmt.Errorf("%s failed (%s): %s", name, exitErr.ProcessState, msg)
	}
	if msg == "" {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %w: %s", name, err, msg)
}

// ConninfoDBName is a libpq connection string naming only the database, so
// that a name with '=' or a URI prefix is never taken for connection
// settings; everything else comes from the environment.
func ConninfoDBName(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "dbname='" + r.Replace(name) + "'"
}

// Tail keeps the last bytes written to it (8 KiB for a Command's).
type Tail struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool // the start of buf is not the start of a line
}

// Write keeps the end of what was written; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

// diagnosticLine marks the lines of a tool's stderr that say what went
// wrong, as opposed to context such as the SQL of a failed command.
var diagnosticLine = regexp.MustCompile(`(?i)\b(error|fatal|detail)\b:`)

// LastLines returns the last n non-empty lines that carry a diagnostic (any
// lines when none does), joined into one line.
func (t *Tail) LastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines, diags []string
	split := bytes.Split(t.buf, []byte("\n"))
	if t.cut {
		split = split[1:]
	}
	for _, l := range split {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, string(l))
			if diagnosticLine.Match(l) {
				diags = append(diags, string(l))
			}
		}
	}
	if len(diags) > 0 {
		lines = diags
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
