package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// defaultInflightBytes sizes --max-inflight-bytes from the memory the process
// may use (the cgroup limit in a container, else the machine's): decoding
// costs up to about 16 times the bodies in flight, so a 64th of the memory
// keeps the worst case near a quarter of it. Between 32 MiB and 1 GiB, in
// whole MiB so that help shows it as people write it ("376 MiB").
func defaultInflightBytes() int64 {
	mem := memoryLimit()
	if mem <= 0 {
		return 64 << 20
	}
	return min(max(mem/64, 32<<20), 1<<30) &^ (1<<20 - 1)
}

// memoryLimit is the cgroup v2 memory limit, else MemTotal, else 0.
func memoryLimit() int64 {
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
