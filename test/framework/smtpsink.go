package framework

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTPMessage is one message an SMTPSink received.
type SMTPMessage struct {
	From string
	To   []string
	// Data is the message as sent after DATA (headers and body), with the
	// transparency dots removed.
	Data string
}

// SMTPSink is a mail catcher for tests: a minimal SMTP server (RFC 5321:
// EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no AUTH) on a
// TenantListener that keeps every message it is given, as Mailpit would.
type SMTPSink struct {
	// Addr is host:port, e.g. 127.0.0.1:31742.
	Addr string
	mu   sync.Mutex
	msgs []SMTPMessage
}

// StartSMTPSink serves until the test ends.
func StartSMTPSink(t testing.TB) *SMTPSink {
	t.Helper()
	l := TenantListener(t)
	s := &SMTPSink{Addr: l.Addr().String()}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return // closed at the test's end
			}
			go s.serve(conn)
		}
	}()
	return s
}

// Messages are the messages received so far.
func (s *SMTPSink) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.msgs...)
}

func (s *SMTPSink) serve(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	r := bufio.NewReader(conn)
	reply := func(lines ...string) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err := fmt.Fprint(conn, strings.Join(lines, "\r\n")+"\r\n")
		return err == nil
	}
	readLine := func() (string, bool) {
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := r.ReadString('\n')
		return strings.TrimRight(line, "\r\n"), err == nil
	}
	if !reply("220 sink ESMTP test mail catcher") {
		return
	}
	var cur SMTPMessage
	for {
		line, ok := readLine()
		if !ok {
			return
		}
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		arg := strings.TrimSpace(strings.TrimPrefix(line, line[:len(verb)]))
		switch verb {
		case "EHLO":
			ok = reply("250-sink", "250-8BITMIME", "250 SMTPUTF8")
		case "HELO":
			ok = reply("250 sink")
		case "MAIL":
			cur = SMTPMessage{From: address(arg)}
			ok = reply("250 OK")
		case "RCPT":
			cur.To = append(cur.To, address(arg))
			ok = reply("250 OK")
		case "DATA":
			if !reply("354 end with <CRLF>.<CRLF>") {
				return
			}
			var b strings.Builder
			for {
				l, ok := readLine()
				if !ok {
					return
				}
				if l == "." {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".") + "\n")
			}
			cur.Data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			cur = SMTPMessage{}
			ok = reply("250 OK: kept")
		case "RSET":
			cur = SMTPMessage{}
			ok = reply("250 OK")
		case "NOOP":
			ok = reply("250 OK")
		case "QUIT":
			reply("221 bye")
			return
		default:
			ok = reply("502 command not implemented")
		}
		if !ok {
			return
		}
	}
}

// address is the mailbox of "FROM:<a@b> SIZE=1" or "TO:<a@b>".
func address(arg string) string {
	if i, j := strings.Index(arg, "<"), strings.Index(arg, ">"); i >= 0 && j > i {
		return arg[i+1 : j]
	}
	return arg
}
