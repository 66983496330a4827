package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with serial and
// its key to certFile and keyFile, and returns it.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "lrs test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// servedSerial shakes hands with addr and returns the certificate's serial.
func servedSerial(t *testing.T, addr string) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestServeTLSReload: lrs serve --tls-cert/--tls-key answers HTTPS (HTTP/2
// negotiated) with the certificate; after the files are replaced and
// SIGHUP, new handshakes get the new one. A broken renewal keeps the old.
func TestServeTLSReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeCert(t, certFile, keyFile, 1001)
	getenv := env(map[string]string{"LRS_DATA_DIR": filepath.Join(dir, "data")})
	base, _, logs, stop := startServerIO(t, getenv, "--tls-cert", certFile, "--tls-key", keyFile)
	defer stop()
	addr := strings.TrimPrefix(base, "http://")

	pool := x509.NewCertPool()
	pool.AddCert(first)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	res, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Fatalf("GET https /healthz: %d over %s", res.StatusCode, res.Proto)
	}
	if got := servedSerial(t, addr); got != 1001 {
		t.Fatalf("serial %d, want 1001", got)
	}

	hupUntil := func(want int64) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for servedSerial(t, addr) != want {
			if time.Now().After(deadline) {
				t.Fatalf("still not serving serial %d after SIGHUP:\n%s", want, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	writeCert(t, certFile, keyFile, 1002)
	hupUntil(1002)
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("no reload logged:\n%s", logs.String())
	}

	// A half-written renewal: the key no longer matches. The old stays.
	writeCert(t, certFile, filepath.Join(dir, "other-key.pem"), 1003)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "TLS certificate not reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload error logged:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := servedSerial(t, addr); got != 1002 {
		t.Errorf("after a failed reload: serial %d, want 1002", got)
	}
}

// TestServeTLSFlags: --tls-cert without --tls-key, or an unreadable pair, stops serve at start.
func TestServeTLSFlags(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{"LRS_DATA_DIR": dir})
	if _, err := runCmd(t, getenv, "serve", "--addr", "127.0.0.1:0", "--tls-cert", "x.pem"); err == nil || !strings.Contains(err.Error(), "LRS_TLS_KEY") {
		t.Errorf("--tls-cert alone: %v", err)
	}
	_, err := runCmd(t, getenv, "serve", "--addr", "127.0.0.1:0", "--tls-cert", filepath.Join(dir, "none.pem"), "--tls-key", filepath.Join(dir, "none.key"))
	if err == nil || !strings.Contains(err.Error(), "none.pem") {
		t.Errorf("missing files: %v", err)
	}
}
