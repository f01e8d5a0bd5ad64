package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
)

// The reset-offset subcommand replays (or skips) a consumer group's
// messages on a running broker, the embedded one or any RocketMQ 4.x
// broker, like mqadmin resetOffsetByTime:
//
//	minirocketmq reset-offset -n 127.0.0.1:9876 -g GROUP -t TOPIC -s 2024-05-01T10:00:00Z
//	minirocketmq reset-offset -n 127.0.0.1:9876 -g GROUP -t TOPIC -s -30m
//
// It asks the topic's broker to reset the group (INVOKE_BROKER_TO_RESET_OFFSET),
// which tells the group's live members; when no member is connected it sets
// the group's offsets itself (SEARCH_OFFSET_BY_TIMESTAMP, then
// UPDATE_CONSUMER_OFFSET per queue), so the group starts there.

// resetTimeout bounds each request of the subcommand.
const resetTimeout = 10 * time.Second

func runResetOffset(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("minirocketmq reset-offset", flag.ContinueOnError)
	fs.SetOutput(out)
	ns := fs.String("n", "127.0.0.1:9876", "name server address")
	group := fs.String("g", "", "consumer group (required)")
	topic := fs.String("t", "", "topic (required)")
	when := fs.String("s", "now", "time to reset to: now, a negative duration (-30m: that long ago), RFC 3339, \"2006-01-02 15:04:05\" (local), or Unix milliseconds")
	force := fs.Bool("force", true, "move offsets forward as well as backward (false: only back, nothing skipped)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *group == "" || *topic == "" {
		return errors.New("reset-offset: -g and -t are required")
	}
	ts, err := parseResetTime(*when, time.Now())
	if err != nil {
		return fmt.Errorf("reset-offset: -s: %w", err)
	}
	broker, queues, err := routeOf(ctx, *ns, *topic)
	if err != nil {
		return fmt.Errorf("reset-offset: %w", err)
	}
	conn, err := remoting.Dial(ctx, broker, nil)
	if err != nil {
		return fmt.Errorf("reset-offset: %w", err)
	}
	defer conn.Close()
	resp, err := invoke(ctx, conn, remoting.NewRequest(remoting.InvokeBrokerToResetOffset,
		"topic", *topic, "group", *group, "timestamp", strconv.FormatInt(ts, 10), "isForce", strconv.FormatBool(*force)))
	if err != nil {
		return fmt.Errorf("reset-offset: %w", err)
	}
	var offsets map[int]int64
	switch resp.Code {
	case remoting.Success:
		if offsets, err = parseOffsetTable(resp.Body); err != nil {
			return fmt.Errorf("reset-offset: the broker's answer: %w", err)
		}
		fmt.Fprintf(out, "reset offsets of group %s on topic %s to %s; the live members were told\n", *group, *topic, *when)
	case remoting.ConsumerNotOnline:
		if offsets, err = setOffsets(ctx, conn, *group, *topic, queues, ts, *force); err != nil {
			return fmt.Errorf("reset-offset: %w", err)
		}
		fmt.Fprintf(out, "reset offsets of group %s on topic %s to %s; no member is connected, they start there\n", *group, *topic, *when)
	default:
		return fmt.Errorf("reset-offset: CODE %d %s", resp.Code, resp.Remark)
	}
	ids := make([]int, 0, len(offsets))
	for q := range offsets {
		ids = append(ids, q)
	}
	sort.Ints(ids)
	fmt.Fprintf(out, "%-8s %s\n", "#queue", "#offset")
	for _, q := range ids {
		fmt.Fprintf(out, "%-8d %d\n", q, offsets[q])
	}
	return nil
}

// parseResetTime reads -s into Unix milliseconds (-1 for now, which the
// broker takes as the end of each queue).
func parseResetTime(s string, now time.Time) (int64, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "now":
		return -1, nil
	case strings.HasPrefix(s, "-"):
		if d, err := time.ParseDuration(s); err == nil {
			return now.Add(d).UnixMilli(), nil
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 {
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UnixMilli(), nil
	}
	if t, err := time.ParseInLocation(time.DateTime, s, time.Local); err == nil {
		return t.UnixMilli(), nil
	}
	return 0, fmt.Errorf("%q: want now, -30m, RFC 3339, \"2006-01-02 15:04:05\" or Unix milliseconds", s)
}

func invoke(ctx context.Context, c *remoting.Conn, req *remoting.Command) (*remoting.Command, error) {
	ctx, cancel := context.WithTimeout(ctx, resetTimeout)
	defer cancel()
	resp, err := c.Invoke(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("request %d to %s: %w", req.Code, c.RemoteAddr(), err)
	}
	return resp, nil
}

var (
	masterAddr = regexp.MustCompile(`"?0"?:"([^"]+)"`)
	writeNums  = regexp.MustCompile(`"writeQueueNums":(\d+)`)
)

// routeOf asks the name server for the topic's master broker and write
// queue count.
func routeOf(ctx context.Context, ns, topic string) (string, int, error) {
	c, err := remoting.Dial(ctx, ns, nil)
	if err != nil {
		return "", 0, err
	}
	defer c.Close()
	resp, err := invoke(ctx, c, remoting.NewRequest(remoting.GetRouteInfoByTopic, "topic", topic))
	if err != nil {
		return "", 0, err
	}
	if resp.Code != remoting.Success {
		return "", 0, fmt.Errorf("route of topic %s: CODE %d %s", topic, resp.Code, resp.Remark)
	}
	m, n := masterAddr.FindSubmatch(resp.Body), writeNums.FindSubmatch(resp.Body)
	if m == nil || n == nil {
		return "", 0, fmt.Errorf("route of topic %s: no master broker in %s", topic, resp.Body)
	}
	queues, _ := strconv.Atoi(string(n[1]))
	return string(m[1]), queues, nil
}

// parseOffsetTable reads ResetOffsetBody ({"offsetTable":{{mq}:offset}})
// into offsets by queue id.
func parseOffsetTable(body []byte) (map[int]int64, error) {
	entry := regexp.MustCompile(`"queueId":(\d+)[^}]*\}:(-?\d+)`)
	out := make(map[int]int64)
	for _, m := range entry.FindAllSubmatch(body, -1) {
		q, _ := strconv.Atoi(string(m[1]))
		off, _ := strconv.ParseInt(string(m[2]), 10, 64)
		out[q] = off
	}
	if len(out) == 0 && len(body) > 0 && !strings.Contains(string(body), "{}") {
		return nil, fmt.Errorf("no offset in %s", body)
	}
	return out, nil
}

// setOffsets moves an offline group's offsets, queue by queue, as mqadmin
// does when the broker cannot reach a member.
func setOffsets(ctx context.Context, c *remoting.Conn, group, topic string, queues int, ts int64, force bool) (map[int]int64, error) {
	out := make(map[int]int64, queues)
	for q := range queues {
		qid := strconv.Itoa(q)
		var target int64
		req := remoting.NewRequest(remoting.GetMaxOffset, "topic", topic, "queueId", qid)
		if ts != -1 {
			req = remoting.NewRequest(remoting.SearchOffsetByTimestamp, "topic", topic, "queueId", qid, "timestamp", strconv.FormatInt(ts, 10))
		}
		resp, err := invoke(ctx, c, req)
		if err != nil {
			return nil, err
		}
		if target, err = strconv.ParseInt(resp.Get("offset"), 10, 64); err != nil || resp.Code != remoting.Success {
			return nil, fmt.Errorf("offset of %s/%d at %d: CODE %d %s", topic, q, ts, resp.Code, resp.Remark)
		}
		if !force {
			resp, err := invoke(ctx, c, remoting.NewRequest(remoting.QueryConsumerOffset, "consumerGroup", group, "topic", topic, "queueId", qid))
			if err != nil {
				return nil, err
			}
			if current, err := strconv.ParseInt(resp.Get("offset"), 10, 64); err == nil && resp.Code == remoting.Success && current <= target {
				out[q] = current
				continue
			}
		}
		resp, err = invoke(ctx, c, remoting.NewRequest(remoting.UpdateConsumerOffset,
			"consumerGroup", group, "topic", topic, "queueId", qid, "commitOffset", strconv.FormatInt(target, 10)))
		if err != nil {
			return nil, err
		}
		if resp.Code != remoting.Success {
			return nil, fmt.Errorf("commit offset of %s/%d: CODE %d %s", topic, q, resp.Code, resp.Remark)
		}
		out[q] = target
	}
	return out, nil
}
