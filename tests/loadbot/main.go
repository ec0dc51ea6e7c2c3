// loadbot: many LiveKit participants in one light process, for the bitrate
// benchmark (tests/e2e/bench.mjs). Built on server-sdk-go (pion WebRTC,
// LiveKit's dual peer-connection mode).
//
// Why not rtc-node bots here: every rtc-node participant decodes every
// audio track it receives. Thirty of them, each subscribed to 12-29 voices,
// need more than this 2-core machine has, so LiveKit's output measured the
// starving receivers (retransmissions, failed renegotiations), not the cap.
// A loadbot talker publishes real Opus packets (a tone encoded once by
// opusenc, read from an Ogg file and looped at 20 ms) and counts the RTP
// bytes it receives without decoding them.
//
// Protocol: one JSON object per line.
// stdin (commands):
//
//	{"op":"join","id":ID,"url":URL,"token":JWT}  autoSubscribe off, allow-list empty
//	{"op":"allow","id":ID,"list":[IDS] | null}   speaker allow-list (null = everyone)
//	{"op":"publish","id":ID}                     publish the tone
//	{"op":"leave","id":ID}
//
// stdout (events): {"ev":"joined"|"allowed"|"published"|"left"|"error"|
// "disconnected", "id":ID, ...}, and once a second
// {"ev":"status","bots":{ID:{"subs":N,"rxBytes":B,"rxPackets":P,
// "from":{SPEAKER_ID:PACKETS}}}} (packets received so far per speaker).
// Exits when stdin closes.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

const (
	frameDuration = 20 * time.Millisecond // opusenc's default frame size
	maxBots       = 200                   // limit: participants per process
	maxLineBytes  = 1 << 20               // limit: one command line
)

type command struct {
	Op    string    `json:"op"`
	ID    string    `json:"id"`
	URL   string    `json:"url"`
	Token string    `json:"token"`
	List  *[]string `json:"list"`
}

// bot is one participant. rxBytes/rxPackets/subs are updated by pion's
// reader goroutines and read by the status ticker.
type bot struct {
	id        string
	room      *lksdk.Room
	stop      chan struct{}
	subs      atomic.Int64
	rxBytes   atomic.Int64
	rxPackets atomic.Int64
	fromMu    sync.Mutex
	from      map[string]*atomic.Int64 // speaker identity -> packets received
}

// counter returns the packet counter of speaker `who` (made on first use).
func (b *bot) counter(who string) *atomic.Int64 {
	b.fromMu.Lock()
	defer b.fromMu.Unlock()
	n := b.from[who]
	if n == nil {
		n = new(atomic.Int64)
		b.from[who] = n
	}
	return n
}

func (b *bot) fromSnapshot() map[string]int64 {
	b.fromMu.Lock()
	defer b.fromMu.Unlock()
	out := make(map[string]int64, len(b.from))
	for who, n := range b.from {
		out[who] = n.Load()
	}
	return out
}

type server struct {
	mu      sync.Mutex
	bots    map[string]*bot
	out     *json.Encoder
	outMu   sync.Mutex
	packets [][]byte // the tone, one Opus packet per 20 ms
}

func (s *server) emit(v map[string]any) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	_ = s.out.Encode(v)
}

func (s *server) fail(id, op string, err error) {
	s.emit(map[string]any{"ev": "error", "id": id, "op": op, "error": err.Error()})
}

// loadOgg returns the Opus audio packets of an Ogg Opus file, split by the
// pages' segment tables (a page may hold many packets, a packet may span
// pages); the OpusHead and OpusTags header packets are skipped.
func loadOgg(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var packets [][]byte
	var cur []byte
	for off := 0; off < len(data); {
		if len(data)-off < 27 || string(data[off:off+4]) != "OggS" {
			return nil, fmt.Errorf("%s: bad Ogg page at byte %d", path, off)
		}
		nseg := int(data[off+26])
		body := off + 27 + nseg
		if body > len(data) {
			return nil, fmt.Errorf("%s: truncated page at byte %d", path, off)
		}
		for _, seg := range data[off+27 : body] {
			if body+int(seg) > len(data) {
				return nil, fmt.Errorf("%s: truncated segment at byte %d", path, body)
			}
			cur = append(cur, data[body:body+int(seg)]...)
			body += int(seg)
			if seg < 255 { // a lacing value below 255 ends the packet
				if !bytes.HasPrefix(cur, []byte("OpusHead")) && !bytes.HasPrefix(cur, []byte("OpusTags")) {
					packets = append(packets, cur)
				}
				cur = nil
			}
		}
		off = body
	}
	if len(packets) == 0 {
		return nil, fmt.Errorf("%s: no Opus packets", path)
	}
	return packets, nil
}

func (s *server) join(c command) {
	s.mu.Lock()
	if _, dup := s.bots[c.ID]; dup || len(s.bots) >= maxBots {
		s.mu.Unlock()
		s.fail(c.ID, c.Op, fmt.Errorf("duplicate id or more than %d bots", maxBots))
		return
	}
	b := &bot{id: c.ID, stop: make(chan struct{}), from: map[string]*atomic.Int64{}}
	s.bots[c.ID] = b
	s.mu.Unlock()

	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(t *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		b.subs.Add(1)
		go b.drain(t, b.counter(rp.Identity()))
	}
	cb.OnTrackUnsubscribed = func(*webrtc.TrackRemote, *lksdk.RemoteTrackPublication, *lksdk.RemoteParticipant) {
		b.subs.Add(-1)
	}
	cb.OnDisconnectedWithReason = func(reason lksdk.DisconnectionReason) {
		s.emit(map[string]any{"ev": "disconnected", "id": c.ID, "reason": string(reason)})
	}
	room, err := lksdk.ConnectToRoomWithToken(c.URL, c.Token, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		s.mu.Lock()
		delete(s.bots, c.ID)
		s.mu.Unlock()
		s.fail(c.ID, c.Op, err)
		return
	}
	// an empty allow-list BEFORE anything is published (LIVEKIT-FACTS.md)
	room.LocalParticipant.SetSubscriptionPermission(&livekit.SubscriptionPermission{})
	s.mu.Lock()
	left := s.bots[c.ID] != b // a leave came while connecting
	b.room = room             // under the lock: get() reads it from the command loop
	s.mu.Unlock()
	if left {
		room.Disconnect()
		s.fail(c.ID, c.Op, fmt.Errorf("left while joining"))
		return
	}
	s.emit(map[string]any{"ev": "joined", "id": c.ID, "sid": room.LocalParticipant.SID()})
}

// drain reads one received track until it ends, counting RTP bytes and
// packets (in total and for the track's speaker).
func (b *bot) drain(t *webrtc.TrackRemote, from *atomic.Int64) {
	buf := make([]byte, 1500)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		b.rxBytes.Add(int64(n))
		b.rxPackets.Add(1)
		from.Add(1)
	}
}

func (s *server) get(id string) *bot {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.bots[id]; b != nil && b.room != nil {
		return b
	}
	return nil
}

func (s *server) allow(c command) {
	b := s.get(c.ID)
	if b == nil {
		s.fail(c.ID, c.Op, fmt.Errorf("no such bot"))
		return
	}
	p := &livekit.SubscriptionPermission{AllParticipants: c.List == nil}
	if c.List != nil {
		for _, who := range *c.List {
			p.TrackPermissions = append(p.TrackPermissions, &livekit.TrackPermission{ParticipantIdentity: who, AllTracks: true})
		}
	}
	b.room.LocalParticipant.SetSubscriptionPermission(p)
	s.emit(map[string]any{"ev": "allowed", "id": c.ID})
}

func (s *server) publish(c command) {
	b := s.get(c.ID)
	if b == nil {
		s.fail(c.ID, c.Op, fmt.Errorf("no such bot"))
		return
	}
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		s.fail(c.ID, c.Op, err)
		return
	}
	pub, err := b.room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{
		Name: "tone", Source: livekit.TrackSource_MICROPHONE, DisableDTX: true,
	})
	if err != nil {
		s.fail(c.ID, c.Op, err)
		return
	}
	go s.pump(b, track)
	s.emit(map[string]any{"ev": "published", "id": c.ID, "sid": pub.SID()})
}

// pump writes the looped tone at real time until the bot leaves.
func (s *server) pump(b *bot, track *lksdk.LocalTrack) {
	tick := time.NewTicker(frameDuration)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-b.stop:
			return
		case <-tick.C:
			_ = track.WriteSample(media.Sample{Data: s.packets[i%len(s.packets)], Duration: frameDuration}, nil)
		}
	}
}

func (s *server) leave(c command) {
	s.mu.Lock()
	b := s.bots[c.ID]
	delete(s.bots, c.ID)
	var room *lksdk.Room
	if b != nil {
		room = b.room // nil while joining: join disconnects it then
	}
	s.mu.Unlock()
	if b == nil {
		s.fail(c.ID, c.Op, fmt.Errorf("no such bot"))
		return
	}
	close(b.stop)
	if room != nil {
		room.Disconnect()
	}
	s.emit(map[string]any{"ev": "left", "id": c.ID})
}

func (s *server) status() {
	for range time.Tick(time.Second) {
		s.mu.Lock()
		ids := make([]string, 0, len(s.bots))
		for id := range s.bots {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		bots := map[string]any{}
		for _, id := range ids {
			b := s.bots[id]
			bots[id] = map[string]any{"subs": b.subs.Load(), "rxBytes": b.rxBytes.Load(),
				"rxPackets": b.rxPackets.Load(), "from": b.fromSnapshot()}
		}
		s.mu.Unlock()
		s.emit(map[string]any{"ev": "status", "bots": bots})
	}
}

func main() {
	ogg := flag.String("ogg", "", "Ogg Opus file to publish (looped)")
	flag.Parse()
	packets, err := loadOgg(*ogg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbot:", err)
		os.Exit(2)
	}
	s := &server{bots: map[string]*bot{}, out: json.NewEncoder(os.Stdout), packets: packets}
	go s.status()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), maxLineBytes)
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			s.fail("", "parse", err)
			continue
		}
		// joins and publishes block on the network: one goroutine each, so
		// thirty talkers join in parallel (commands for one id stay ordered
		// by the caller, which waits for each reply)
		switch c.Op {
		case "join":
			go s.join(c)
		case "allow":
			s.allow(c)
		case "publish":
			go s.publish(c)
		case "leave":
			go s.leave(c)
		default:
			s.fail(c.ID, c.Op, fmt.Errorf("unknown op"))
		}
	}
}
