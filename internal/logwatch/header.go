package logwatch

import (
	"bytes"
	"time"
)

// stampTemplate is Python logging's default asctime, which Odoo keeps; 'd'
// stands for any ASCII digit.
const stampTemplate = "dddd-dd-dd dd:dd:dd,ddd"

// maxPIDDigits keeps the PID within an int on every platform; Linux PIDs
// have at most 7 digits.
const maxPIDDigits = 9

// maxInterned bounds the strings a Parser interns (logger and database names
// repeat on every line, so interning saves two allocations per record).
const (
	maxInterned    = 1024
	maxInternedLen = 64
)

// parseHeader parses a line that starts with Odoo's prefix
//
//	%(asctime)s %(pid)s %(levelname)s %(dbname)s %(name)s: %(message)s
//
// It accepts exactly what this regexp accepts (docs B.7, with the PID capped
// at maxPIDDigits digits):
//
//	^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\d{1,9}) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S*) ([\w.\-]+): (.*)$
//
// It is written by hand because a regexp match costs about as much as the
// whole throughput budget of the parser.
func (p *Parser) parseHeader(b []byte) (Record, bool) {
	const n = len(stampTemplate)
	if len(b) < n+1 || b[n] != ' ' {
		return Record{}, false
	}
	for i := 0; i < n; i++ {
		if stampTemplate[i] == 'd' {
			if b[i] < '0' || b[i] > '9' {
				return Record{}, false
			}
		} else if b[i] != stampTemplate[i] {
			return Record{}, false
		}
	}
	rest := b[n+1:]

	pid, i := 0, 0
	for i < len(rest) && i <= maxPIDDigits && rest[i] >= '0' && rest[i] <= '9' {
		pid = pid*10 + int(rest[i]-'0')
		i++
	}
	if i == 0 || i > maxPIDDigits || i == len(rest) || rest[i] != ' ' {
		return Record{}, false
	}
	rest = rest[i+1:]

	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return Record{}, false
	}
	level, ok := parseLevel(rest[:sp])
	if !ok {
		return Record{}, false
	}
	rest = rest[sp+1:]

	// The database field may be empty (two spaces in a row).
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return Record{}, false
	}
	db := rest[:sp]
	for _, c := range db {
		if c == '\t' || c == '\f' || c == '\r' || c == '\n' {
			return Record{}, false
		}
	}
	rest = rest[sp+1:]

	i = 0
	for i < len(rest) && isLoggerByte(rest[i]) {
		i++
	}
	if i == 0 || i+1 >= len(rest) || rest[i] != ':' || rest[i+1] != ' ' {
		return Record{}, false
	}
	logger := rest[:i]

	rec := Record{
		Time:    p.stamp(b[:n]),
		PID:     pid,
		Level:   level,
		Logger:  p.intern(logger),
		Message: string(trimBlankRight(rest[i+2:])),
	}
	if string(db) != "?" {
		rec.Database = p.intern(db)
	}
	return rec, true
}

func parseLevel(b []byte) (Level, bool) {
	// Comparisons of string(b) with a constant do not allocate.
	switch {
	case string(b) == "INFO":
		return LevelInfo, true
	case string(b) == "WARNING":
		return LevelWarning, true
	case string(b) == "ERROR":
		return LevelError, true
	case string(b) == "DEBUG":
		return LevelDebug, true
	case string(b) == "CRITICAL":
		return LevelCritical, true
	}
	return "", false
}

// isLoggerByte reports whether c may appear in a logger name: [\w.-].
func isLoggerByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-'
}

// stamp converts a checked "YYYY-MM-DD HH:MM:SS,mmm" to a UTC time. Records
// come in bursts within one second, so the second is computed once and
// reused. Out-of-range fields are normalised the way time.Date does.
func (p *Parser) stamp(b []byte) time.Time {
	const secLen = len("2006-01-02 15:04:05")
	if !p.haveSecond || !bytes.Equal(b[:secLen], p.lastStamp[:]) {
		p.lastSecond = time.Date(atoi(b[0:4]), time.Month(atoi(b[5:7])), atoi(b[8:10]),
			atoi(b[11:13]), atoi(b[14:16]), atoi(b[17:19]), 0, time.UTC)
		copy(p.lastStamp[:], b[:secLen])
		p.haveSecond = true
	}
	return p.lastSecond.Add(time.Duration(atoi(b[secLen+1:])) * time.Millisecond)
}

// atoi converts a short run of checked ASCII digits.
func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func (p *Parser) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := p.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(p.interned) < maxInterned && len(s) <= maxInternedLen {
		p.interned[s] = s
	}
	return s
}

// trimBlankRight trims trailing spaces and tabs.
func trimBlankRight(b []byte) []byte {
	i := len(b)
	for i > 0 && (b[i-1] == ' ' || b[i-1] == '\t') {
		i--
	}
	return b[:i]
}
