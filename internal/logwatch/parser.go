package logwatch

import (
	"bufio"
	"errors"
	"io"
	"time"
)

// Parser reads Odoo log records from a stream. A line that starts with
// Odoo's prefix opens a record; any other line continues the current one.
// CRI prefixes are removed first, and CRI partial records are joined.
//
// A Parser holds a few buffers of MaxLineBytes and one record within the
// continuation caps, so its memory does not grow with the input (about
// 4 MiB of heap in use while streaming 1 GiB, see BenchmarkParseGigabyte).
// It is not safe for concurrent use.
type Parser struct {
	r    *bufio.Reader
	done bool
	err  error

	// long holds the kept head of an over-long line, join the joined
	// content of CRI partial records; both are reused and stay within
	// MaxLineBytes.
	long []byte
	join []byte

	// plain holds a line without its ANSI colours; reused.
	plain []byte

	cur    Record
	hasCur bool
	cont   continuation

	stats Stats

	interned   map[string]string
	lastStamp  [19]byte
	lastSecond time.Time
	haveSecond bool
}

// Stats counts what a Parser read, so a caller can tell how much was cut.
// Lines always equals the lines returned in records (one per record plus its
// continuation lines) plus Dropped.
type Stats struct {
	// Lines is the number of log lines read, CRI partial records joined.
	Lines int
	// Records is the number of records Next returned.
	Records int
	// Truncated is the number of lines cut at MaxLineBytes.
	Truncated int
	// Dropped is the number of lines in no record: continuation lines over
	// the caps (see Record.Dropped) and blank lines before the first record.
	Dropped int
}

// NewParser returns a Parser that reads r.
func NewParser(r io.Reader) *Parser {
	return &Parser{
		r:        bufio.NewReaderSize(r, MaxLineBytes),
		interned: make(map[string]string),
	}
}

// Next returns the next record, or false at the end of the input or after a
// read error (see Err). A record is complete only once the line after it has
// been read, so Next reads one line ahead.
func (p *Parser) Next() (Record, bool) {
	for {
		line, ok := p.readLine()
		if !ok {
			if !p.hasCur {
				return Record{}, false
			}
			p.hasCur = false
			return p.finish(), true
		}
		p.stats.Lines++
		if rec, ok := p.parseAny(line); ok {
			if !p.hasCur {
				p.cur, p.hasCur = rec, true
				continue
			}
			out := p.finish()
			p.cur = rec
			return out, true
		}
		switch {
		case p.hasCur:
			p.cont.add(string(trimBlankRight(line)))
		case isBlank(line):
			p.stats.Dropped++
		default:
			p.cur = Record{Message: string(trimBlankRight(line))}
			p.hasCur = true
		}
	}
}

// parseAny parses Odoo's prefix, exactly (parseHeader) or in one of the
// forms around it that parseLoose knows.
func (p *Parser) parseAny(line []byte) (Record, bool) {
	if rec, ok := p.parseHeader(line); ok {
		return rec, true
	}
	return p.parseLoose(line)
}

// Err returns the first read error other than io.EOF.
func (p *Parser) Err() error { return p.err }

// Stats returns the counts so far.
func (p *Parser) Stats() Stats { return p.stats }

func (p *Parser) finish() Record {
	rec := p.cur
	rec.Continuation, rec.Dropped = p.cont.take()
	p.stats.Dropped += rec.Dropped
	p.stats.Records++
	p.cur = Record{}
	return rec
}

// readLine returns the next log line without its CRI prefix or line ending.
// The slice is only valid until the next call.
func (p *Parser) readLine() ([]byte, bool) {
	b, ok := p.readPhysical()
	if !ok {
		return nil, false
	}
	content, partial, isCRI := stripCRI(b)
	if !isCRI {
		return b, true
	}
	if !partial {
		return content, true
	}
	// A P record continues in the next one, whatever that one is; the
	// joined line is cut at MaxLineBytes like any other.
	p.join = append(p.join[:0], content...)
	cut := false
	for partial {
		if b, ok = p.readPhysical(); !ok {
			break
		}
		if content, partial, isCRI = stripCRI(b); !isCRI {
			content, partial = b, false
		}
		if room := MaxLineBytes - len(p.join); len(content) > room {
			content, cut = content[:room], true
		}
		p.join = append(p.join, content...)
	}
	if cut {
		p.stats.Truncated++
	}
	return p.join, true
}

// readPhysical returns the next line of the input without "\n" or "\r\n",
// cut at MaxLineBytes. An over-long line is not an error: its head is kept
// and the rest skipped, so one runaway line cannot stop the watch.
func (p *Parser) readPhysical() ([]byte, bool) {
	if p.done {
		return nil, false
	}
	b, err := p.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		p.long = append(p.long[:0], b...)
		b = p.long
		p.stats.Truncated++
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = p.r.ReadSlice('\n')
		}
	}
	if err != nil {
		// bufio.Reader forgets a read error once returned; stop here so a
		// failing reader is not read again.
		p.done = true
		if !errors.Is(err, io.EOF) {
			p.err = err
		}
		if len(b) == 0 {
			return nil, false
		}
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b, true
}

func isBlank(b []byte) bool { return len(trimBlankRight(b)) == 0 }
