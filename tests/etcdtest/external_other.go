//go:build !linux

package etcdtest

import "syscall"

// childProcAttr has nothing to set where the kernel cannot kill a child
// with its parent.
func childProcAttr() *syscall.SysProcAttr { return nil }
