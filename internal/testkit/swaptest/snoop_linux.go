package swaptest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// snoop is the reading attacker: it watches dir (inotify, which any user
// who may read a directory can do) and opens every file created there the
// moment its name appears, to keep the descriptor and read, later,
// whatever was written into it after it was opened: a descriptor keeps
// the access it was opened with. Only creations count (IN_CREATE): a name
// renamed into place (IN_MOVED_TO) already has its final mode. It prints
// "ready" once watching; on SIGTERM, how many new names it tried, how
// many it opened, how many refused it for want of permission (it got
// there in time, and was kept out), and the bytes it read through the
// descriptors it holds (hex).
func snoop(dir string) int {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		fmt.Println("inotify:", err)
		return 2
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE); err != nil {
		fmt.Println("inotify:", err)
		return 2
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	var (
		mu            sync.Mutex
		tried, denied int
		held          []*os.File
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
				if name == "" || ev.Mask&unix.IN_Q_OVERFLOW != 0 {
					continue // not a name: the queue overflowed
				}
				f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
				mu.Lock()
				tried++
				switch {
				case err == nil:
					held = append(held, f)
				case errors.Is(err, fs.ErrPermission):
					denied++
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
	fmt.Printf("tried %d opened %d denied %d loot %x\n", tried, len(held), denied, loot)
	return 0
}
