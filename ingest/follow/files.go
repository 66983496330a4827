package follow

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// maxFirstLine caps how much of a file is read to find its first line.
const maxFirstLine = 16 << 20

// logFile is one file that may hold lines to store: a followed log or a
// rotated copy of one (renamed, copied or compressed).
type logFile struct {
	path    string
	inode   uint64
	size    int64 // on disk (compressed for .gz)
	modTime time.Time
	gz      bool
	hash    string // hex SHA-256 of the first line; "" until the file has a complete one
	isize   uint32 // a .gz file's trailer: its content's length mod 2^32
}

// candidates lists the files the follower looks at: for a directory, every
// regular file in it; for a file, the file and its siblings whose names
// start with its name (tracking.log.1, tracking.log-20261204.gz), which
// are read only when they hold a log the follower has begun. Oldest first,
// so that a rotated log's rest is stored before the new one.
func candidates(paths []string) (files []logFile, siblingOf map[string]bool) {
	siblingOf = map[string]bool{}
	seen := map[string]bool{}
	add := func(path string, sibling bool) {
		if seen[path] {
			return
		}
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		seen[path] = true
		f := logFile{path: path, size: fi.Size(), modTime: fi.ModTime()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			f.inode = uint64(st.Ino)
		}
		files = append(files, f)
		if sibling {
			siblingOf[path] = true
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err == nil && fi.IsDir() {
			entries, _ := os.ReadDir(p)
			for _, e := range entries {
				add(filepath.Join(p, e.Name()), false)
			}
			continue
		}
		add(p, false) // a followed file that does not exist yet is simply absent
		entries, _ := os.ReadDir(filepath.Dir(p))
		for _, e := range entries {
			if name := e.Name(); name != filepath.Base(p) && strings.HasPrefix(name, filepath.Base(p)) {
				add(filepath.Join(filepath.Dir(p), name), true)
			}
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].modTime.Before(files[j].modTime) })
	return files, siblingOf
}

// identify reads f's first line and hashes it, and notes whether it is
// gzipped (by content). A file without a complete first line yet keeps
// hash "" (a .gz file's content is complete: its last line counts).
func identify(f *logFile) error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		f.gz = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		r = zr
		if f.size >= 4 {
			var tail [4]byte
			if _, err := fh.ReadAt(tail[:], f.size-4); err == nil {
				f.isize = binary.LittleEndian.Uint32(tail[:])
			}
		}
	}
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxFirstLine), 64<<10).ReadBytes('\n')
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && f.gz && len(line) > 0:
	case errors.Is(err, io.EOF):
		return nil // no complete first line yet
	default:
		return err
	}
	sum := sha256.Sum256(bytes.TrimRight(line, "\r\n"))
	f.hash = hex.EncodeToString(sum[:])
	return nil
}

// chunk is complete lines read from a log: content bytes [from, to).
type chunk struct {
	lines    []byte
	from, to int64
	count    int64 // lines in it
}

// gzReader is an open .gz log being read batch by batch, so that a long
// one is decompressed once, not once per batch.
type gzReader struct {
	fh      *os.File
	zr      *gzip.Reader
	inode   uint64
	pos     int64  // content offset up to which chunks were handed out
	pending []byte // read past pos: the start of a line not yet complete
	eof     bool
}

func (g *gzReader) Close() { g.fh.Close() }

func openGz(f *logFile, offset int64) (*gzReader, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(fh, 64<<10))
	if err != nil {
		fh.Close()
		return nil, err
	}
	g := &gzReader{fh: fh, zr: zr, inode: f.inode, pos: offset}
	if _, err := io.CopyN(io.Discard, zr, offset); err != nil {
		g.eof = true // shorter than the checkpoint: nothing new
	}
	return g, nil
}

// next reads up to max bytes of lines from a .gz log; at its end the last
// line counts without its newline (the file is complete).
func (g *gzReader) next(max int) (chunk, error) {
	c := chunk{from: g.pos, to: g.pos}
	if g.eof && len(g.pending) == 0 {
		return c, nil
	}
	buf := g.pending
	if !g.eof && len(buf) < max {
		more := make([]byte, max-len(buf))
		n, err := io.ReadFull(g.zr, more)
		buf = append(buf, more[:n]...)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			g.eof = true
		} else if err != nil {
			return c, err
		}
	}
	end := bytes.LastIndexByte(buf, '\n') + 1
	if g.eof {
		end = len(buf)
	}
	if end == 0 {
		g.pending = buf
		return c, errors.New("a line longer than the read size")
	}
	c.lines, g.pending = buf[:end], append([]byte(nil), buf[end:]...)
	c.to = g.pos + int64(end)
	g.pos = c.to
	c.count = int64(bytes.Count(c.lines, []byte{'\n'}))
	if c.lines[len(c.lines)-1] != '\n' {
		c.count++
	}
	return c, nil
}

// readPlain reads up to max bytes of complete lines of a plain log from
// offset; a last line without its newline is still being written and waits.
func readPlain(f *logFile, offset int64, max int) (chunk, error) {
	c := chunk{from: offset, to: offset}
	fh, err := os.Open(f.path)
	if err != nil {
		return c, err
	}
	defer fh.Close()
	buf := make([]byte, max)
	n, err := fh.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return c, err
	}
	end := bytes.LastIndexByte(buf[:n], '\n') + 1
	if end == 0 && n == max {
		return c, errors.New("a line longer than the read size")
	}
	c.lines, c.to = buf[:end], offset+int64(end)
	c.count = int64(bytes.Count(c.lines, []byte{'\n'}))
	return c, nil
}
