package swaptest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// snoop is the reading attacker: it watches dir (inotify, which any user
// who may read a directory can do) and opens every name the moment it
// appears there, to keep the descriptor and read, later, whatever was
// written into the file after it was opened: a descriptor keeps the
// access it was opened with. It prints "ready" once watching; on SIGTERM,
// how many names it tried, how many it opened, and the bytes it read
// through those descriptors (hex).
func snoop(dir string) int {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		fmt.Println("inotify:", err)
		return 2
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		fmt.Println("inotify:", err)
		return 2
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	var (
		mu    sync.Mutex
		tried int
		held  []*os.File
	)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := unix.Read(fd, buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)], "\x00"))
				off += unix.SizeofInotifyEvent + int(ev.Len)
				f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
				mu.Lock()
				tried++
				if err == nil {
					held = append(held, f)
				}
				mu.Unlock()
			}
		}
	}()
	fmt.Println("ready")
	<-sig
	mu.Lock()
	defer mu.Unlock()
	var loot []byte
	for _, f := range held {
		b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
		loot = append(append(loot, b...), '\n')
	}
	fmt.Printf("tried %d opened %d loot %x\n", tried, len(held), loot)
	return 0
}
