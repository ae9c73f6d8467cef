package etcdtest

import "syscall"

// childProcAttr makes an external server die with the test process, so a
// test binary killed by its timeout leaves no etcd behind.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
