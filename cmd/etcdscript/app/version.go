package app

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// Version is etcdscript's version; release builds set it with
// -ldflags "-X github.com/etcdscript/etcdscript/cmd/etcdscript/app.Version=v1.2.3".
var Version = "0.1.0-dev"

type versionInfo struct {
	Etcdscript string `json:"etcdscript"`
	EtcdAPI    string `json:"etcd_api"`
	Go         string `json:"go"`
	GopherLua  string `json:"gopher_lua"`
	Lua        string `json:"lua"`
}

func currentVersion() versionInfo {
	v := versionInfo{Etcdscript: Version, EtcdAPI: "unknown", Go: runtime.Version(), GopherLua: "unknown", Lua: "5.1"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "go.etcd.io/etcd/api/v3":
				v.EtcdAPI = d.Version
			case "github.com/yuin/gopher-lua":
				v.GopherLua = d.Version
			}
		}
	}
	return v
}

func versionCommand(p Process) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the versions of etcdscript, the etcd API, Go and gopher-lua",
		Action: func(c *cli.Context) error {
			v := currentVersion()
			if c.String(flagWriteOut) == "json" {
				enc := json.NewEncoder(p.Stdout)
				return enc.Encode(v)
			}
			fmt.Fprintf(p.Stdout, "etcdscript version: %s\netcd API version: %s\nGo version: %s\ngopher-lua version: %s (Lua %s)\n",
				v.Etcdscript, v.EtcdAPI, v.Go, v.GopherLua, v.Lua)
			return nil
		},
	}
}
