package logwatch

import "bytes"

// parseLoose reads an Odoo record from a line parseHeader refused because
// something around Odoo's layout differs:
//
//   - a timestamp in front of Odoo's prefix, glued to it or followed by a
//     space: `kubectl logs --timestamps`, a container runtime's or a log
//     viewer's own stamp ("2026-06-25 14:32:18.910104+00:00" + Odoo's line);
//   - a syslog or journald prefix, "Dec  7 03:09:06 host odoo[12]: " + Odoo's
//     line, or Odoo's own --syslog layout, "Odoo Server 18.0:db:LEVEL:
//     logger:message" (OpenERP's too), after such a prefix or alone;
//   - a level name wrapped in ANSI colours (Odoo colours it on a terminal or
//     with ODOO_PY_COLORS);
//   - no timestamp and PID at all, "LEVEL db logger: message", the way
//     lines get pasted; only for Odoo's own loggers (odoo.*, openerp.*,
//     werkzeug), so a continuation line is not mistaken for one.
//
// A record read this way has the zero Time unless Odoo's own timestamp was
// found. It costs nothing on the common path: parseHeader runs first, and
// a continuation line (a traceback frame, psycopg's ERROR:) is rejected by
// its first bytes.
func (p *Parser) parseLoose(b []byte) (Record, bool) {
	if len(b) < 8 {
		return Record{}, false
	}
	if bytes.IndexByte(b, 0x1b) >= 0 {
		p.plain = stripANSI(p.plain[:0], b)
		if rec, ok := p.parseHeader(p.plain); ok {
			return rec, true
		}
		b = p.plain
		if len(b) == 0 {
			return Record{}, false
		}
	}
	switch c := b[0]; {
	case c >= '0' && c <= '9':
		if n := outerStamp(b); n > 0 {
			return p.parseHeader(b[n:])
		}
	case c >= 'A' && c <= 'Z':
		if n := syslogPrefix(b); n > 0 {
			b = b[n:]
			if rec, ok := p.parseHeader(b); ok {
				return rec, true
			}
		}
		if rec, ok := p.parseOdooSyslog(b); ok {
			return rec, true
		}
		return p.parseBare(b)
	}
	return Record{}, false
}

// outerStamp returns the length of an ISO 8601 timestamp at the start of b
// ("2006-01-02T15:04:05.999999999Z", "2006-01-02 15:04:05.910104+00:00")
// and the space after it, if Odoo's own timestamp follows; else 0.
func outerStamp(b []byte) int {
	const date = "dddd-dd-dd?dd:dd:dd"
	if len(b) < len(date)+len(stampTemplate) {
		return 0
	}
	for i := 0; i < len(date); i++ {
		switch date[i] {
		case 'd':
			if b[i] < '0' || b[i] > '9' {
				return 0
			}
		case '?':
			if b[i] != 'T' && b[i] != ' ' {
				return 0
			}
		default:
			if b[i] != date[i] {
				return 0
			}
		}
	}
	i := len(date)
	if i < len(b) && (b[i] == '.' || b[i] == ',') {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	switch {
	case i < len(b) && b[i] == 'Z':
		i++
	case i+2 < len(b) && (b[i] == '+' || b[i] == '-') && isDigit(b[i+1]) && isDigit(b[i+2]):
		// +hh, +hhmm or +hh:mm: no more, since Odoo's stamp may be glued.
		i += 3
		switch {
		case i+2 < len(b) && b[i] == ':' && isDigit(b[i+1]) && isDigit(b[i+2]):
			i += 3
		case i+1 < len(b) && isDigit(b[i]) && isDigit(b[i+1]):
			i += 2
		}
	}
	if i < len(b) && b[i] == ' ' {
		i++
	}
	if i == len(date) {
		return 0 // Odoo's own stamp, which parseHeader refused
	}
	return i
}

// syslogPrefix returns the length of "Mmm dd hh:mm:ss host " and of a
// "tag[pid]: " or "tag: " after it; else 0.
func syslogPrefix(b []byte) int {
	const months = "JanFebMarAprMayJunJulAugSepOctNovDec"
	if len(b) < 16 || b[3] != ' ' || bytes.Index([]byte(months), b[:3])%3 != 0 {
		return 0
	}
	// "Dec  7" or "Dec 07", then " hh:mm:ss ".
	if (b[4] != ' ' && !isDigit(b[4])) || !isDigit(b[5]) || b[6] != ' ' ||
		!isDigit(b[7]) || !isDigit(b[8]) || b[9] != ':' || !isDigit(b[10]) || !isDigit(b[11]) ||
		b[12] != ':' || !isDigit(b[13]) || !isDigit(b[14]) || b[15] != ' ' {
		return 0
	}
	i := 16
	host := bytes.IndexByte(b[i:], ' ')
	if host <= 0 {
		return 0
	}
	i += host + 1
	// An optional tag: a word, maybe "[pid]", then ": ".
	j := i
	for j < len(b) && (isLoggerByte(b[j]) || b[j] == '/') {
		j++
	}
	if j > i && j < len(b) && b[j] == '[' {
		if k := bytes.IndexByte(b[j:], ']'); k > 0 {
			j += k + 1
		}
	}
	if j > i && j+1 < len(b) && b[j] == ':' && b[j+1] == ' ' {
		return j + 2
	}
	return i
}

// parseOdooSyslog parses Odoo's --syslog layout,
// "<description> <version>:%(dbname)s:%(levelname)s:%(name)s:%(message)s".
func (p *Parser) parseOdooSyslog(b []byte) (Record, bool) {
	var rest []byte
	for _, desc := range [...]string{"Odoo Server ", "OpenERP Server "} {
		if bytes.HasPrefix(b, []byte(desc)) {
			rest = b[len(desc):]
		}
	}
	if rest == nil {
		return Record{}, false
	}
	var f [4][]byte // version, db, level, logger
	for i := range f {
		c := bytes.IndexByte(rest, ':')
		if c < 0 {
			return Record{}, false
		}
		f[i], rest = rest[:c], rest[c+1:]
	}
	level, ok := parseLevel(f[2])
	if !ok || len(f[3]) == 0 {
		return Record{}, false
	}
	for _, c := range f[3] {
		if !isLoggerByte(c) {
			return Record{}, false
		}
	}
	return p.looseRecord(level, f[1], f[3], rest), true
}

// parseBare parses "LEVEL db logger: message" for Odoo's own loggers.
func (p *Parser) parseBare(b []byte) (Record, bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return Record{}, false
	}
	level, ok := parseLevel(b[:sp])
	if !ok {
		return Record{}, false
	}
	rest := b[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return Record{}, false
	}
	db, rest := rest[:sp], rest[sp+1:]
	i := 0
	for i < len(rest) && isLoggerByte(rest[i]) {
		i++
	}
	if i == 0 || i+1 >= len(rest) || rest[i] != ':' || rest[i+1] != ' ' || !isOdooLogger(rest[:i]) {
		return Record{}, false
	}
	return p.looseRecord(level, db, rest[:i], rest[i+2:]), true
}

func (p *Parser) looseRecord(level Level, db, logger, msg []byte) Record {
	rec := Record{Level: level, Logger: p.intern(logger), Message: string(trimBlankRight(msg))}
	if string(db) != "?" {
		rec.Database = p.intern(db)
	}
	return rec
}

func isOdooLogger(b []byte) bool {
	for _, root := range [...]string{"odoo", "openerp", "werkzeug"} {
		if bytes.HasPrefix(b, []byte(root)) && (len(b) == len(root) || b[len(root)] == '.') {
			return true
		}
	}
	return false
}

// stripANSI appends b to dst without ANSI escape sequences (ESC [ ... m and
// the like).
func stripANSI(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		if b[i] != 0x1b {
			dst = append(dst, b[i])
			continue
		}
		if i+1 < len(b) && b[i+1] == '[' {
			i += 2
			for i < len(b) && (b[i] < 0x40 || b[i] > 0x7e) {
				i++
			}
		}
	}
	return dst
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
