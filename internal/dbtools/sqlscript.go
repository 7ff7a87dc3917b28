package dbtools

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// A plain SQL dump (an Odoo zip's dump.sql) is tenant input. Fed to psql,
// its backslash lines are psql meta-commands: `\! cmd` runs a shell
// command, `\o |cmd` and `\copy ... program` pipe through one, `\i` reads
// files, and psql's lexer can be steered (client_encoding, variables) so
// that no filter in front of psql can be sure what it will treat as a
// meta-command. So the operator never runs psql on a dump: SQLScanner
// splits it into statements and COPY data the way psql would for what
// pg_dump writes, and LoadSQL sends those to the server as plain SQL and
// COPY data, where the tenant's role has only its own privileges. A
// backslash outside COPY data is refused, naming the line.

// MaxStatementBytes bounds one statement of a script (a dump's largest
// statements are function bodies and view definitions, far smaller), so a
// hostile script cannot exhaust the loader's memory.
const MaxStatementBytes = 64 << 20

// ErrMetaCommand is wrapped by the error for a psql meta-command (a
// backslash outside COPY data) in a script.
var ErrMetaCommand = errors.New("psql meta-commands are not SQL data; a restore runs SQL and COPY data only")

// SQLItem is one unit of a script: a statement, or a COPY FROM STDIN
// statement whose data follows in Data.
type SQLItem struct {
	// SQL is the statement, with its terminating semicolon.
	SQL string
	// Line is the line the statement starts on (1-based).
	Line int
	// Copy marks a COPY statement: it must be sent as COPY, with Data (the
	// lines up to the end marker `\.`, without it) as its input when
	// FromStdin, with no input otherwise.
	Copy, FromStdin bool
	// Data streams the COPY data; it must be read to EOF (or abandoned with
	// the scanner) before Next is called again.
	Data io.Reader
}

type lexState int

const (
	lexNormal lexState = iota
	lexQuote
	lexEQuote
	lexDQuote
	lexDollar
	lexBlockComment
)

// SQLScanner reads a plain SQL script line by line.
type SQLScanner struct {
	r    *bufio.Reader
	line int // lines read so far
	// rest is the unscanned remainder of the current line.
	rest []byte
	// the statement being accumulated
	stmt      []byte
	stmtLine  int
	state     lexState
	dollarTag []byte
	depth     int // block comment nesting
	parens    int
	begins    int
	words     []string // the statement's first identifiers (lower-cased), for BEGIN ATOMIC
	wordCount int
	copyData  *copyReader
	err       error
}

// NewSQLScanner scans r.
func NewSQLScanner(r io.Reader) *SQLScanner {
	return &SQLScanner{r: bufio.NewReaderSize(r, 256<<10)}
}

var (
	copyRe      = regexp.MustCompile(`(?is)^COPY\b`)
	copyStdinRe = regexp.MustCompile(`(?is)^COPY\b.*\bFROM\s+STDIN\b`)
	// pg_dump since 17.6, 16.10, 15.14, 14.19 and 13.22 brackets its output
	// with \restrict KEY and \unrestrict KEY: harmless, and skipped.
	restrictRe = regexp.MustCompile(`^\\(un)?restrict\s+[A-Za-z0-9]+\s*$`)
)

// readLine returns the next line with its newline, or io.EOF.
func (s *SQLScanner) readLine() ([]byte, error) {
	line, err := s.r.ReadBytes('\n')
	if len(line) > 0 {
		s.line++
		return line, nil
	}
	if err == nil {
		err = io.EOF
	}
	return nil, err
}

// Next returns the next item, io.EOF after the last one. A statement left
// unterminated at the end of the script is returned like psql sends it.
func (s *SQLScanner) Next() (SQLItem, error) {
	if s.err != nil {
		return SQLItem{}, s.err
	}
	if s.copyData != nil {
		// Skip what the caller left unread of the previous COPY data.
		if _, err := io.Copy(io.Discard, s.copyData); err != nil {
			s.err = err
			return SQLItem{}, err
		}
		s.copyData = nil
	}
	for {
		if len(s.rest) == 0 {
			line, err := s.readLine()
			if errors.Is(err, io.EOF) {
				if s.state == lexNormal && len(bytes.TrimSpace(s.stmt)) > 0 {
					return s.finish(), nil
				}
				if s.state != lexNormal {
					s.err = fmt.Errorf("line %d: the script ends inside a quoted string, identifier or comment", s.stmtLine)
					return SQLItem{}, s.err
				}
				s.err = io.EOF
				return SQLItem{}, io.EOF
			}
			if err != nil {
				s.err = err
				return SQLItem{}, err
			}
			if s.state == lexNormal && len(s.stmt) == 0 && restrictRe.Match(bytes.TrimRight(line, "\r\n")) {
				continue
			}
			s.rest = line
		}
		item, done, err := s.scan()
		if err != nil {
			s.err = err
			return SQLItem{}, err
		}
		if done {
			return item, nil
		}
	}
}

// scan lexes s.rest until a statement ends (done) or the line is used up.
func (s *SQLScanner) scan() (SQLItem, bool, error) {
	b := s.rest
	i := 0
	emit := func(n int) {
		if len(s.stmt) == 0 {
			s.stmtLine = s.line
		}
		s.stmt = append(s.stmt, b[i:i+n]...)
		i += n
	}
	for i < len(b) {
		if len(s.stmt) > MaxStatementBytes {
			return SQLItem{}, false, fmt.Errorf("line %d: a statement longer than %d MiB", s.stmtLine, MaxStatementBytes>>20)
		}
		c := b[i]
		switch s.state {
		case lexQuote, lexEQuote, lexDQuote:
			q := byte('\'')
			if s.state == lexDQuote {
				q = '"'
			}
			switch {
			case s.state == lexEQuote && c == '\\' && i+1 < len(b):
				emit(2)
			case c == q && i+1 < len(b) && b[i+1] == q:
				emit(2)
			case c == q:
				emit(1)
				s.state = lexNormal
			default:
				emit(1)
			}
		case lexDollar:
			if c == '$' && bytes.HasPrefix(b[i:], s.dollarTag) {
				emit(len(s.dollarTag))
				s.state = lexNormal
			} else {
				emit(1)
			}
		case lexBlockComment:
			switch {
			case c == '/' && i+1 < len(b) && b[i+1] == '*':
				s.depth++
				emit(2)
			case c == '*' && i+1 < len(b) && b[i+1] == '/':
				s.depth--
				emit(2)
				if s.depth == 0 {
					s.state = lexNormal
				}
			default:
				emit(1)
			}
		default:
			switch {
			case c == '-' && i+1 < len(b) && b[i+1] == '-':
				// A comment to the end of the line; like psql, kept out of
				// a statement that has not started.
				if len(s.stmt) > 0 {
					emit(len(b) - i)
				} else {
					i = len(b)
				}
			case c == '/' && i+1 < len(b) && b[i+1] == '*':
				s.state, s.depth = lexBlockComment, 1
				emit(2)
			case c == '\\':
				return SQLItem{}, false, fmt.Errorf("line %d: %q: %w", s.line, metaCommand(b[i:]), ErrMetaCommand)
			case c == '\'':
				s.state = lexQuote
				if i > 0 && (b[i-1] == 'E' || b[i-1] == 'e') && (i < 2 || !identByte(b[i-2])) {
					s.state = lexEQuote
				}
				emit(1)
			case c == '"':
				s.state = lexDQuote
				emit(1)
			case c == '$' && (i == 0 || !identByte(b[i-1])):
				if tag := dollarTag(b[i:]); tag != nil {
					s.state, s.dollarTag = lexDollar, tag
					emit(len(tag))
				} else {
					emit(1)
				}
			case c == '(':
				s.parens++
				emit(1)
			case c == ')':
				if s.parens > 0 {
					s.parens--
				}
				emit(1)
			case c == ';' && s.parens == 0 && s.begins == 0:
				emit(1)
				s.rest = b[i:]
				return s.statementEnd()
			case identStart(c) && (i == 0 || !identByte(b[i-1])):
				j := i + 1
				for j < len(b) && identByte(b[j]) {
					j++
				}
				s.word(string(bytes.ToLower(b[i:j])))
				emit(j - i)
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
				if len(s.stmt) > 0 {
					emit(1)
				} else {
					i++
				}
			default:
				emit(1)
			}
		}
	}
	s.rest = nil
	return SQLItem{}, false, nil
}

// word follows psql's heuristic for CREATE [OR REPLACE] FUNCTION|PROCEDURE
// ... BEGIN ATOMIC ... END bodies, whose semicolons do not end the
// statement.
func (s *SQLScanner) word(w string) {
	if s.wordCount < 4 {
		s.words = append(s.words, w)
	}
	s.wordCount++
	ws := s.words
	at := func(i int) string {
		if i < len(ws) {
			return ws[i]
		}
		return ""
	}
	routine := func(w string) bool { return w == "function" || w == "procedure" }
	createRoutine := at(0) == "create" && (routine(at(1)) || at(1) == "or" && at(2) == "replace" && routine(at(3)))
	if !createRoutine || s.parens != 0 {
		return
	}
	switch w {
	case "begin":
		s.begins++
	case "case":
		if s.begins >= 1 {
			s.begins++
		}
	case "end":
		if s.begins > 0 {
			s.begins--
		}
	}
}

// statementEnd returns the statement just ended and, for a COPY FROM
// STDIN, sets up its data.
func (s *SQLScanner) statementEnd() (SQLItem, bool, error) {
	item := s.finish()
	if item.Copy && item.FromStdin {
		// The data starts on the next line, as psql reads it; nothing may
		// follow the statement on its own line.
		if len(bytes.TrimSpace(s.rest)) > 0 {
			return SQLItem{}, false, fmt.Errorf("line %d: text after a COPY FROM STDIN statement on its line", s.line)
		}
		s.rest = nil
		s.copyData = &copyReader{s: s, startLine: s.line + 1}
		item.Data = s.copyData
	}
	return item, true, nil
}

func (s *SQLScanner) finish() SQLItem {
	sql := string(s.stmt)
	item := SQLItem{SQL: sql, Line: s.stmtLine}
	if copyRe.MatchString(sql) {
		item.Copy = true
		item.FromStdin = copyStdinRe.MatchString(sql)
	}
	s.stmt, s.words, s.wordCount, s.begins, s.parens = s.stmt[:0], s.words[:0], 0, 0, 0
	return item
}

// copyReader streams COPY data lines up to the end marker `\.` alone on a
// line (or the end of the script).
type copyReader struct {
	s         *SQLScanner
	startLine int
	buf       []byte
	done      bool
}

func (r *copyReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		line, err := r.s.readLine()
		if errors.Is(err, io.EOF) {
			r.done = true
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		if t := bytes.TrimRight(line, "\r\n"); len(t) == 2 && t[0] == '\\' && t[1] == '.' {
			r.done = true
			return 0, io.EOF
		}
		r.buf = line
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// metaCommand names the meta-command at the start of b, for the error.
func metaCommand(b []byte) string {
	b = bytes.TrimRight(b, "\r\n")
	if len(b) > 40 {
		b = append(b[:40:40], "…"...)
	}
	return string(b)
}

// dollarTag returns $tag$ at the start of b, nil if there is none.
func dollarTag(b []byte) []byte {
	for j := 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '$':
			return b[:j+1]
		case identStart(c), j > 1 && c >= '0' && c <= '9':
		default:
			return nil
		}
	}
	return nil
}

func identStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func identByte(c byte) bool {
	return identStart(c) || c >= '0' && c <= '9' || c == '$'
}
