package stdlib

import (
	"encoding/base64"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// Base64 is the base64 module (RFC 4648):
//
//	base64.encode(s) -> text        standard alphabet, padded
//	base64.decode(text) -> s
//	base64.url_encode(s) -> text    URL alphabet, unpadded (as in JWTs)
//	base64.url_decode(text) -> s
//
// The decoders accept their text with or without padding and ignore line
// breaks, as wrapped base64 (PEM, MIME) has them. Invalid text raises
// invalid_argument naming the function and the offset of the bad byte.
func Base64(rt *luart.Runtime) lua.LGFunction {
	return loader(func(L *lua.LState) *lua.LTable {
		return moduleTable(L, map[string]lua.LGFunction{
			"encode":     base64Encoder("base64.encode", base64.StdEncoding),
			"decode":     base64Decoder("base64.decode", base64.RawStdEncoding),
			"url_encode": base64Encoder("base64.url_encode", base64.RawURLEncoding),
			"url_decode": base64Decoder("base64.url_decode", base64.RawURLEncoding),
		})
	})
}

func base64Encoder(fn string, enc *base64.Encoding) lua.LGFunction {
	return func(L *lua.LState) int {
		s := luart.Args{L: L, Fn: fn}.String(1, "s")
		L.Push(lua.LString(enc.EncodeToString([]byte(s))))
		return 1
	}
}

// base64Decoder decodes with raw (unpadded) enc after dropping line breaks
// and trailing padding, so both padded and unpadded text decode.
func base64Decoder(fn string, enc *base64.Encoding) lua.LGFunction {
	return func(L *lua.LState) int {
		a := luart.Args{L: L, Fn: fn}
		s := a.String(1, "text")
		if strings.ContainsAny(s, "\r\n") {
			s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
		}
		trimmed := strings.TrimRight(s, "=")
		if len(s)-len(trimmed) > 2 {
			a.Fail(1, "text", "invalid base64: too much padding")
		}
		b, err := enc.DecodeString(trimmed)
		if err != nil {
			a.Fail(1, "text", "invalid base64: %v", err)
		}
		L.Push(lua.LString(b))
		return 1
	}
}
