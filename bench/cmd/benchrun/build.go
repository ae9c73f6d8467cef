package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// etcdctlVersion is the etcdctl the report compares with: the release whose
// api/v3 module this project is built on.
const etcdctlVersion = "v3.7.3"

// goCmd runs the go command in dir and returns its combined output.
func goCmd(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("go %s: %w%s", strings.Join(args, " "), err, tail(out.Bytes()))
	}
	return out.Bytes(), nil
}

// buildBinary builds the package pkg of the repository into dst.
func buildBinary(repo, pkg, dst string) error {
	_, err := goCmd(repo, nil, "build", "-o", dst, pkg)
	return err
}

// buildTest compiles the tests of pkg into dst; it reports false (and no
// error) when the package has no test files.
func buildTest(repo, pkg, dst string) (bool, error) {
	if _, err := goCmd(repo, nil, "test", "-c", "-o", dst, pkg); err != nil {
		return false, err
	}
	_, err := os.Stat(dst)
	return err == nil, nil
}

// etcdctl returns the path of etcdctl at etcdctlVersion, building it once
// into cacheDir. It is built from the Go module proxy in a throwaway
// wrapper module under the temporary directory: `go install` refuses
// etcdctl's own module, whose go.mod has replace directives (FACTS.md).
func etcdctl(cacheDir string, logf func(string, ...any)) (string, error) {
	bin := filepath.Join(cacheDir, "etcdctl-"+etcdctlVersion)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("etcdctl cache: %w", err)
	}
	wrapper, err := os.MkdirTemp("", "etcdctl-wrapper-")
	if err != nil {
		return "", fmt.Errorf("etcdctl wrapper module: %w", err)
	}
	defer os.RemoveAll(wrapper)
	gomod := "module etcdscript.invalid/etcdctlwrapper\n\ngo 1.26\n"
	if err := os.WriteFile(filepath.Join(wrapper, "go.mod"), []byte(gomod), 0o644); err != nil {
		return "", fmt.Errorf("etcdctl wrapper module: %w", err)
	}
	logf("building etcdctl %s from the module proxy (once; cached in %s)", etcdctlVersion, cacheDir)
	t0 := time.Now()
	env := []string{"GOWORK=off", "GOFLAGS=-mod=mod"}
	const mod = "go.etcd.io/etcd/etcdctl/v3"
	if _, err := goCmd(wrapper, env, "get", mod+"@"+etcdctlVersion); err != nil {
		return "", err
	}
	tmp := bin + ".tmp"
	if _, err := goCmd(wrapper, env, "build", "-o", tmp, mod); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	logf("etcdctl built in %s", time.Since(t0).Round(time.Second))
	return bin, nil
}
