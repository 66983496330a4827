package web

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// CertFiles serves the certificate and key read from two PEM files, and
// reads them again on Reload (lrs serve calls it on SIGHUP), so that a
// renewed certificate is served without a restart: connections already open
// keep the one they shook hands with.
type CertFiles struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertFiles reads the pair; an error names both files.
func LoadCertFiles(certFile, keyFile string) (*CertFiles, error) {
	c := &CertFiles{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. On an error the certificate served so far
// stays (a half-written renewal never takes the server down).
func (c *CertFiles) Reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cur.Store(&cert)
	return nil
}

// TLSConfig is the server's TLS configuration: TLS 1.2 or newer, HTTP/2 and
// HTTP/1.1, the current certificate at each handshake.
func (c *CertFiles) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}
