package app

import (
	"encoding/xml"
	"os"
	"strconv"
	"time"
)

// The JUnit XML report of `etcdscript test --junit`: one testsuite per
// file, one testcase per case; a file that failed outside its cases
// (set-up, syntax) has an errored testcase named after the file.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func writeJUnit(path string, results []*fileResult) error {
	var all junitSuites
	var total time.Duration
	now := time.Now().UTC().Format(time.RFC3339)
	for _, r := range results {
		s := junitSuite{Name: r.path, Time: seconds(r.took), Timestamp: now, SystemOut: r.printed.String()}
		for _, c := range r.cases {
			jc := junitCase{Name: c.name, Classname: r.path, Time: seconds(c.took)}
			if c.failure != "" {
				jc.Failure = &junitProblem{Message: c.failure, Type: "failure", Text: c.failure}
				s.Failures++
			}
			s.Cases = append(s.Cases, jc)
		}
		if r.err != "" {
			kind := "error"
			if r.syntax {
				kind = "syntax"
			}
			s.Cases = append(s.Cases, junitCase{Name: "(file)", Classname: r.path, Time: seconds(r.took),
				Error: &junitProblem{Message: r.err, Type: kind, Text: r.err}})
			s.Errors++
		}
		s.Tests = len(s.Cases)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		total += r.took
		all.Suites = append(all.Suites, s)
	}
	all.Time = seconds(total)
	b, err := xml.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	b = append([]byte(xml.Header), append(b, '\n')...)
	return os.WriteFile(path, b, 0o644)
}
