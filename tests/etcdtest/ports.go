package etcdtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Ports for etcd are chosen below the kernel's ephemeral range when there is
// room: outgoing connections take their local port from that range, so a
// port outside it cannot be grabbed by a client socket while a stopped member
// waits to be restarted on it. Ports handed out by this process are
// remembered until released, so two clusters of one process never collide;
// clusters of other processes can, which Start handles by retrying when a
// bind fails.

const lowestPort = 10000

var ports = struct {
	sync.Mutex
	inUse map[int]bool
}{inUse: map[int]bool{}}

// ephemeralLow returns the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

// reservePorts returns n distinct TCP ports that are free on 127.0.0.1 right
// now and that no other cluster of this process holds.
func reservePorts(n int) ([]int, error) {
	ports.Lock()
	defer ports.Unlock()
	out := make([]int, 0, n)
	low, high := lowestPort, ephemeralLow()
	for tries := 0; len(out) < n; tries++ {
		if tries > 1000 {
			for _, p := range out {
				delete(ports.inUse, p)
			}
			return nil, errors.New("etcdtest: no free port found")
		}
		var p int
		if high-low >= 1000 {
			p = low + rand.IntN(high-low)
		} else {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, err
			}
			p = l.Addr().(*net.TCPAddr).Port
			l.Close()
		}
		if ports.inUse[p] || !portFree(p) {
			continue
		}
		ports.inUse[p] = true
		out = append(out, p)
	}
	return out, nil
}

// releasePorts gives ports back to the pool.
func releasePorts(ps ...int) {
	ports.Lock()
	defer ports.Unlock()
	for _, p := range ps {
		delete(ports.inUse, p)
	}
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// isAddrInUse reports whether err comes from binding a port that is taken.
func isAddrInUse(err error) bool {
	return err != nil && (errors.Is(err, syscall.EADDRINUSE) ||
		strings.Contains(err.Error(), "address already in use"))
}

func hostPort(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
