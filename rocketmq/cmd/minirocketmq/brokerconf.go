package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A -config file is a RocketMQ broker.conf (Java properties: key=value,
// key: value or key value; # and ! comments). Each key that applies to the
// embedded broker sets the flag it corresponds to, unless that flag was
// given on the command line, which wins. Keys that do not apply are listed
// in the log; aclEnable=true needs -acl, since there is no ROCKETMQ_HOME to
// find conf/plain_acl.yml in.

// confKey maps one broker.conf key to a flag, converting the value.
type confKey struct {
	flag string
	conv func(string) (string, error)
}

func same(v string) (string, error) { return v, nil }

func millis(v string) (string, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "", fmt.Errorf("want milliseconds, got %q", v)
	}
	return (time.Duration(n) * time.Millisecond).String(), nil
}

func hours(v string) (string, error) {
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return "", fmt.Errorf("want hours, got %q", v)
	}
	return time.Duration(n * float64(time.Hour)).String(), nil
}

func seconds(v string) (string, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "", fmt.Errorf("want seconds, got %q", v)
	}
	return (time.Duration(n) * time.Second).String(), nil
}

func boolean(v string) (string, error) {
	// Java's Boolean.parseBoolean: "true" in any case, anything else false.
	return strconv.FormatBool(strings.EqualFold(v, "true")), nil
}

var brokerConfKeys = map[string]confKey{
	"brokerClusterName":           {"cluster", same},
	"brokerName":                  {"name", same},
	"storePathRootDir":            {"data", same},
	"flushDiskType":               {"flush", same},
	"flushIntervalCommitLog":      {"flush-interval", millis},
	"syncFlushTimeout":            {"sync-flush-timeout", millis},
	"flushConsumerOffsetInterval": {"persist-interval", millis},
	"fileReservedTime":            {"retention", hours},
	"mappedFileSizeCommitLog":     {"segment-size", same},
	"mapedFileSizeCommitLog":      {"segment-size", same}, // the older spelling
	"autoCreateTopicEnable":       {"auto-create", boolean},
	"defaultTopicQueueNums":       {"queues", same},
	"maxMessageSize":              {"max-message-size", same},
	"enablePropertyFilter":        {"property-filter", boolean},
	"messageDelayLevel":           {"delay-levels", same},
	"transactionCheckInterval":    {"tx-check-interval", millis},
	"transactionTimeOut":          {"tx-timeout", millis},
	"transactionCheckMax":         {"tx-check-max", same},
	"timerMaxDelaySec":            {"timer-max-delay", seconds},
}

// readProperties parses a Java properties file (no line continuations or
// unicode escapes, which broker.conf files do not use).
func readProperties(r io.Reader) (map[string]string, error) {
	props := make(map[string]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=: \t")
		if i < 0 {
			props[line] = ""
			continue
		}
		key := line[:i]
		val := strings.TrimSpace(line[i:])
		if val != "" && (val[0] == '=' || val[0] == ':') {
			val = strings.TrimSpace(val[1:])
		}
		props[key] = val
	}
	return props, sc.Err()
}

// applyBrokerConf sets fs's flags from the broker.conf at path, except
// those given on the command line, and reports the keys it did not use.
func applyBrokerConf(fs *flag.FlagSet, path string, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("-config: %w", err)
	}
	defer f.Close()
	props, err := readProperties(f)
	if err != nil {
		return fmt.Errorf("-config %s: %w", path, err)
	}
	given := make(map[string]bool)
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	set := func(name, value, key string) error {
		if given[name] {
			return nil
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("-config %s: %s=%s: %w", path, key, value, err)
		}
		return nil
	}
	var unused []string
	for key, val := range props {
		switch key {
		case "listenPort", "brokerIP1":
			continue // below, together
		case "aclEnable":
			if on, _ := boolean(val); on == "true" && !given["acl"] {
				return fmt.Errorf("-config %s: aclEnable=true needs -acl FILE (the plain_acl.yml to use)", path)
			}
			continue
		}
		k, ok := brokerConfKeys[key]
		if !ok {
			unused = append(unused, key)
			continue
		}
		v, err := k.conv(val)
		if err != nil {
			return fmt.Errorf("-config %s: %s: %w", path, key, err)
		}
		if err := set(k.flag, v, key); err != nil {
			return err
		}
	}
	// listenPort keeps the -broker host; brokerIP1 advertises with it.
	port := props["listenPort"]
	if port != "" {
		host, _, err := net.SplitHostPort(fs.Lookup("broker").Value.String())
		if err != nil {
			return fmt.Errorf("-broker: %w", err)
		}
		if err := set("broker", net.JoinHostPort(host, port), "listenPort"); err != nil {
			return err
		}
	}
	if ip := props["brokerIP1"]; ip != "" {
		if port == "" {
			_, port, _ = net.SplitHostPort(fs.Lookup("broker").Value.String())
		}
		if err := set("advertise", net.JoinHostPort(ip, port), "brokerIP1"); err != nil {
			return err
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(out, "minirocketmq: %s: keys without effect on the embedded broker: %s\n", path, strings.Join(unused, ", "))
	}
	return nil
}
