//go:build !linux

package store

// checkDisk cannot inspect the file system here; failed writes still take
// the store out of rotation (writeHealth).
func checkDisk(string) error { return nil }
