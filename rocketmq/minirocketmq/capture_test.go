package minirocketmq_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"

	"github.com/kratos-rocketmq/rocketmq/minirocketmq/remoting"
	"github.com/kratos-rocketmq/rocketmq/minirocketmq/rmqtest"
)

// TestCaptureSeedCorpus records the traffic between the official client and
// a broker (ROCKETMQ_NAMESRV, i.e. real RocketMQ, or the embedded one)
// through a recording proxy, and writes it as seed corpora of the fuzz
// targets: whole frames (remoting FuzzReadFrame), JSON headers
// (FuzzDecodeJSONHeader), batch bodies (message FuzzDecodeBatch) and stored
// records from pull, query and view responses (message FuzzDecodeRecord).
// It runs only when MINIROCKETMQ_CAPTURE=1:
//
//	MINIROCKETMQ_CAPTURE=1 ROCKETMQ_NAMESRV=127.0.0.1:9876 go test -run TestCaptureSeedCorpus ./minirocketmq
func TestCaptureSeedCorpus(t *testing.T) {
	if os.Getenv("MINIROCKETMQ_CAPTURE") != "1" {
		t.Skip("set MINIROCKETMQ_CAPTURE=1 to record seed corpora")
	}
	ns := rmqtest.NameServer(t)
	rec := &recorder{seen: map[string]int{}}
	realBroker := brokerAddr(t, ns)
	brokerProxy := startProxy(t, realBroker, rec, nil)
	nsProxy := startProxy(t, ns, rec, func(cmd *remoting.Command) {
		// Point routes at the broker proxy.
		cmd.Body = []byte(strings.ReplaceAll(string(cmd.Body), realBroker, brokerProxy))
	})

	topic := rmqtest.Name(t, "Capture")
	p := newProducer(t, nsProxy)
	for i := range 3 {
		m := newMsg(topic, fmt.Sprintf("body-%d é", i), fmt.Sprint(i))
		m.WithKeys([]string{fmt.Sprintf("k%d", i), "shared key"})
		m.WithTag("TagA")
		if _, err := p.SendSync(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	big := newMsg(topic, strings.Repeat("compressible ", 400), "big")
	if _, err := p.SendSync(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	var batch []*primitive.Message
	for i := range 3 {
		m := newMsg(topic, fmt.Sprintf("batch-%d", i), fmt.Sprintf("b%d", i))
		m.WithTag("TagB")
		batch = append(batch, m)
	}
	res, err := p.SendSync(context.Background(), batch...)
	if err != nil {
		t.Fatal(err)
	}
	col := consume(t, nsProxy, rmqtest.Name(t, "CG"), topic, consumer.MessageSelector{Type: consumer.TAG, Expression: "TagA || TagB"})
	waitFor(t, 60*time.Second, "consumption", func() bool { return col.len() == 6 })

	conn := dial(t, brokerProxy)
	invoke(t, conn, remoting.NewRequest(remoting.QueryMessage, "topic", topic, "key", "shared key", "maxNum", "32", "beginTimestamp", "0", "endTimestamp", fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())))
	_ = res
	invoke(t, conn, remoting.NewRequest(remoting.GetAllTopicConfig))
	invoke(t, conn, remoting.NewRequest(9999))

	rec.write(t)
}

// recorder keeps a few frames of each (direction, code, flag) kind.
type recorder struct {
	mu     sync.Mutex
	seen   map[string]int
	frames [][]byte
	// requests remembers request codes by opaque, to name responses.
	requests sync.Map
}

func (r *recorder) add(dir string, frame []byte, cmd *remoting.Command, reqCode int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kind := fmt.Sprintf("%s-%d-%d-%d", dir, cmd.Code, cmd.Flag, reqCode)
	if r.seen[kind] >= 2 {
		return
	}
	r.seen[kind]++
	r.frames = append(r.frames, append([]byte(nil), frame...))
}

func (r *recorder) write(t *testing.T) {
	t.Helper()
	root := "."
	for _, frame := range r.frames {
		payload := frame[4:]
		cmd, err := remoting.Decode(payload)
		if err != nil {
			t.Fatalf("recorded frame does not decode: %v", err)
		}
		writeSeed(t, filepath.Join(root, "remoting/testdata/fuzz/FuzzReadFrame"), "[]byte", frame)
		hl := int(binary.BigEndian.Uint32(payload) & 0xFFFFFF)
		writeSeed(t, filepath.Join(root, "remoting/testdata/fuzz/FuzzDecodeJSONHeader"), "string", payload[4:4+hl])
		reqCode, _ := r.requests.Load(cmd.Opaque)
		switch {
		case cmd.Code == remoting.SendBatchMessage && !cmd.IsResponse():
			writeSeed(t, filepath.Join(root, "message/testdata/fuzz/FuzzDecodeBatch"), "[]byte", cmd.Body)
		case cmd.IsResponse() && cmd.Code == remoting.Success && len(cmd.Body) > 0 &&
			(reqCode == remoting.PullMessage || reqCode == remoting.QueryMessage || reqCode == remoting.ViewMessageByID):
			writeSeed(t, filepath.Join(root, "message/testdata/fuzz/FuzzDecodeRecord"), "[]byte", cmd.Body)
		}
	}
	t.Logf("wrote %d frames", len(r.frames))
}

func writeSeed(t *testing.T, dir, typ string, data []byte) {
	t.Helper()
	if len(data) > 64<<10 {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	name := filepath.Join(dir, "real-"+hex.EncodeToString(sum[:8]))
	content := fmt.Sprintf("go test fuzz v1\n%s(%q)\n", typ, data)
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startProxy forwards connections to target frame by frame, recording each
// frame; rewrite, when set, edits successful route responses.
func startProxy(t *testing.T, target string, rec *recorder, rewrite func(*remoting.Command)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
			go pipeFrames(client, server, "c2s", rec, nil)
			go pipeFrames(server, client, "s2c", rec, rewrite)
		}
	}()
	return ln.Addr().String()
}

func pipeFrames(from, to net.Conn, dir string, rec *recorder, rewrite func(*remoting.Command)) {
	defer func() { _ = from.Close(); _ = to.Close() }()
	br := bufio.NewReader(from)
	for {
		payload, err := remoting.ReadFrame(br, 0)
		if err != nil {
			return
		}
		frame := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
		frame = append(frame, payload...)
		cmd, err := remoting.Decode(payload)
		if err != nil {
			return
		}
		var reqCode int16
		if cmd.IsResponse() {
			if v, ok := rec.requests.Load(cmd.Opaque); ok {
				reqCode = v.(int16)
			}
		} else if dir == "c2s" {
			rec.requests.Store(cmd.Opaque, cmd.Code)
		}
		rec.add(dir, frame, cmd, reqCode)
		if rewrite != nil && cmd.IsResponse() && reqCode == remoting.GetRouteInfoByTopic && cmd.Code == remoting.Success {
			rewrite(cmd)
			if frame, err = remoting.AppendFrame(nil, cmd); err != nil {
				return
			}
		}
		if _, err := to.Write(frame); err != nil {
			return
		}
	}
}
