package pgtest

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy relays TCP between clients and the test server, and can break
// connections the way networks and crashes do.
type Proxy struct {
	ln       net.Listener
	target   string
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	onCommit atomic.Bool
	commits  atomic.Int64
}

// NewProxy returns a proxy in front of the database rawURL names and the URL
// that reaches the same database through it. It stops when t ends.
func NewProxy(t testing.TB, rawURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.DropAll()
	})
	pu := *u
	pu.Host = ln.Addr().String()
	return p, pu.String()
}

// DropAfterCommit makes the proxy forward the next COMMIT to the server and
// then cut that connection before the server's answer reaches the client:
// the transaction is committed, but the client cannot know it.
func (p *Proxy) DropAfterCommit() { p.onCommit.Store(true) }

// CommitsDropped counts the connections cut by DropAfterCommit.
func (p *Proxy) CommitsDropped() int64 { return p.commits.Load() }

// DropAll cuts every open connection at once, as a server crash would.
func (p *Proxy) DropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.track(client, true)
		p.track(server, true)
		var cut atomic.Bool // the server's answer to a COMMIT must not reach the client
		closeBoth := func() {
			client.Close()
			server.Close()
			p.track(client, false)
			p.track(server, false)
		}
		go func() {
			defer closeBoth()
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !cut.Load() {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() {
			defer closeBoth()
			p.relayClient(client, server, &cut)
		}()
	}
}

// relayClient copies the client's messages to the server one at a time,
// watching for a simple-protocol COMMIT (pgx sends one when committing).
func (p *Proxy) relayClient(client, server net.Conn, cut *atomic.Bool) {
	// The startup message has no type byte: a length, then the body.
	var hdr [4]byte
	if _, err := io.ReadFull(client, hdr[:]); err != nil {
		return
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	startup := make([]byte, n)
	copy(startup, hdr[:])
	if _, err := io.ReadFull(client, startup[4:]); err != nil {
		return
	}
	if _, err := server.Write(startup); err != nil {
		return
	}
	var typed [5]byte
	for {
		if _, err := io.ReadFull(client, typed[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(typed[1:]))
		msg := make([]byte, 1+n)
		copy(msg, typed[:])
		if _, err := io.ReadFull(client, msg[5:]); err != nil {
			return
		}
		isCommit := typed[0] == 'Q' && bytes.EqualFold(bytes.TrimRight(msg[5:], "\x00"), []byte("commit"))
		if isCommit && p.onCommit.CompareAndSwap(true, false) {
			cut.Store(true)
			if _, err := server.Write(msg); err != nil {
				return
			}
			// Let the server commit before the connection goes.
			time.Sleep(300 * time.Millisecond)
			p.commits.Add(1)
			return
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

// Stop refuses new connections and cuts the open ones: the database looks
// down until the test ends.
func (p *Proxy) Stop() {
	p.ln.Close()
	p.DropAll()
}
