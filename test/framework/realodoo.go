package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// SandboxQuery runs a query in database db of the sandbox's PostgreSQL as
// its superuser and returns each row's columns joined by "|".
func SandboxQuery(t testing.TB, db, query string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, SandboxDatabase(t, db))
	if err != nil {
		t.Fatalf("connecting to database %q: %v", db, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, query)
	if err != nil {
		t.Fatalf("database %q: %v", db, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("database %q: %v", db, err)
		}
		cols := make([]string, len(vals))
		for i, v := range vals {
			cols[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(cols, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("database %q: %v", db, err)
	}
	return out
}

// ProcessScan records the command lines of the processes the sandbox's
// player starts (real Odoo, the data Jobs' `odoo-operator data ...`), as any
// process on the node can read them from /proc/<pid>/cmdline, every 50 ms
// until Stop.
type ProcessScan struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	seen map[string]string // pid + start time -> command line (NUL-separated words)
}

// ScanSandboxProcesses starts a ProcessScan of the processes whose command
// line names the sandbox's state directory (the player's scratch
// directories are there).
func ScanSandboxProcesses(t testing.TB) *ProcessScan {
	t.Helper()
	state := os.Getenv("SANDBOX_STATE")
	if state == "" {
		t.Fatal("SANDBOX_STATE is not set (eval \"$(hack/sandbox.sh env)\")")
	}
	s := &ProcessScan{stop: make(chan struct{}), done: make(chan struct{}), seen: map[string]string{}}
	go func() {
		defer close(s.done)
		for {
			s.scan(state)
			select {
			case <-s.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return s
}

func (s *ProcessScan) scan(state string) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline")) //nolint:gosec // /proc
		if err != nil || !strings.Contains(string(b), state) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		stat, _ := os.ReadFile(filepath.Join(d, "stat")) //nolint:gosec // /proc
		key := fmt.Sprintf("%d/%d", pid, len(stat))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			if f := strings.Fields(string(stat)[i+1:]); len(f) > 19 {
				key = fmt.Sprintf("%d/%s", pid, f[19])
			}
		}
		s.mu.Lock()
		s.seen[key] = string(b)
		s.mu.Unlock()
	}
}

// Stop ends the scan and returns the command lines seen, words separated
// by spaces.
func (s *ProcessScan) Stop() []string {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.seen))
	for _, c := range s.seen {
		out = append(out, strings.ReplaceAll(strings.TrimRight(c, "\x00"), "\x00", " "))
	}
	return out
}
