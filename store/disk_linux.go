package store

import "syscall"

// checkDisk returns a *NotReady when the file system holding dir is mounted
// read-only or has less than minFreeDisk available.
func checkDisk(dir string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil // cannot tell: let the writes say
	}
	const stRdonly = 1 // ST_RDONLY
	if st.Flags&stRdonly != 0 {
		return &NotReady{Reason: "file system is read-only"}
	}
	if free := st.Bavail * uint64(st.Bsize); free < minFreeDisk {
		return diskFullError(free)
	}
	return nil
}
