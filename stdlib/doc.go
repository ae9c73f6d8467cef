// Package stdlib holds the Lua modules every etcdscript run can require:
// json, yaml, base64, time, log, fs, env, strings, retry and progress
// (docs/lua.md).
//
// Each module is a Module value whose Open function builds the module's
// loader for one run's luart.Runtime; Preload registers them with
// L.PreloadModule so that require("json") works. Modules hold no state
// outside the Runtime and the Lua state they are loaded into.
//
// Every function checks its arguments with luart.Args: a wrong type, a
// missing argument or an unknown option key raises an error object with
// code invalid_argument, naming the function and the argument, such as
// `json.decode: bad argument #1 (s): string expected, got table`.
//
// # Conventions shared by json and yaml
//
// Lua has one table type for arrays and objects, and nil cannot be stored
// in a table. The encoders therefore follow these rules:
//
//   - A table whose keys are exactly 1..n is an array. A table marked with
//     json.array (or made by a binding as a list) is always an array, so an
//     empty one encodes as [] and its holes encode as null. Any other empty
//     table encodes as {}.
//   - A table with other keys is an object. Number keys are written as
//     strings in JSON (1 becomes "1") and as numbers in YAML. Keys of other
//     types, sparse unmarked arrays (keys 1..n with holes), functions,
//     coroutines, userdata, NaN and infinities (in JSON) are errors naming
//     the path of the value, such as
//     `json.encode: unsupported value at $.a[3]: function`. Paths count
//     array elements from 1, as Lua does.
//   - json.null (the same value as yaml.null) stands for null, also inside
//     arrays, where a nil would end the array. Decoders return it for every
//     null, so a decoded document encodes back unchanged.
//   - Decoded arrays are marked as arrays, so [] round-trips.
//   - Object keys are sorted by default (byte order), so the same data always
//     encodes to the same text: what a migration tool that diffs or hashes
//     its output wants. {sort_keys = false} keeps Lua's iteration order.
//   - A table reached again while it is being encoded is a cycle and an
//     error; a table used twice in different branches is not.
//   - Integers are written without a fraction, exactly up to 2^53; larger
//     or fractional numbers in the shortest form that reads back the same.
//     Decoded numbers are Lua numbers (float64): integers beyond 2^53 lose
//     precision, as in every JSON reader built on doubles.
//   - Lua strings are bytes but JSON text is Unicode: json.encode refuses
//     a string that is not valid UTF-8 rather than silently altering it, and
//     json.decode refuses invalid UTF-8 and lone surrogates. Binary values
//     belong in base64 (or in YAML, which writes them as !!binary).
//   - Error objects encode as objects with their fields code, message, op,
//     key and retryable, so they can be logged as data.
//   - Values nest at most 1000 levels deep (YAML's parser stops deeper
//     input itself): deeper input or values are an invalid_argument error
//     that says so, never a Go stack overflow. Decoding and encoding look
//     at the state's context (L.Context(), the run's) every 1024 values and
//     stop when it ends, raising the run's script_timeout or canceled error
//     object: a large document cannot keep a run past its deadline.
package stdlib
