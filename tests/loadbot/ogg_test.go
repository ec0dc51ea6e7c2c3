package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// page builds one Ogg page around the given segment lacing values and data
// (CRC left zero: loadOgg does not check it).
func page(lacing []byte, data []byte) []byte {
	h := make([]byte, 27)
	copy(h, "OggS")
	h[26] = byte(len(lacing))
	return append(append(h, lacing...), data...)
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.ogg")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadOggSplitsPacketsAcrossSegmentsAndPages(t *testing.T) {
	head := []byte("OpusHead0123456789")
	tags := []byte("OpusTags01234")
	big := bytes.Repeat([]byte{7}, 300) // 255 + 45: two segments
	a := []byte{1, 2, 3}
	b := bytes.Repeat([]byte{9}, 255) // exactly 255: needs a 0 terminator
	var f []byte
	f = append(f, page([]byte{byte(len(head))}, head)...)
	f = append(f, page([]byte{byte(len(tags))}, tags)...)
	// big spans two pages: 255 on this one, 45 on the next
	f = append(f, page([]byte{3, 255}, append(append([]byte{}, a...), big[:255]...))...)
	f = append(f, page([]byte{45, 255, 0}, append(append([]byte{}, big[255:]...), b...))...)
	got, err := loadOgg(writeTemp(t, f))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{a, big, b}
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("packet %d: %d bytes, want %d", i, len(got[i]), len(want[i]))
		}
	}
}

func TestLoadOggRejectsBadInput(t *testing.T) {
	good := page([]byte{3}, []byte{1, 2, 3})
	cases := map[string][]byte{
		"empty":             {},
		"not ogg":           []byte("RIFF....WAVEfmt "),
		"truncated header":  good[:20],
		"truncated segment": good[:len(good)-1],
		"only headers":      page([]byte{8}, []byte("OpusHead")),
	}
	for name, b := range cases {
		if _, err := loadOgg(writeTemp(t, b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
