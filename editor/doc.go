// Package editor holds the editor support of etcdscript: LuaLS definition
// files (---@meta) for the etcd module and the stdlib, and a .luarc.json
// template, written by `etcdscript types`.
package editor
