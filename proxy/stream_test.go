package proxy

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gorilla/websocket"
)

func TestStreamingResponseArrivesChunkByChunk(t *testing.T) {
	release := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: second\n\n")
	}))
	defer origin.Close()
	defer close(release)
	f := newFixture(t, origin.URL, nil)
	front := httptest.NewServer(f.h)
	defer front.Close()

	req, _ := http.NewRequest("GET", front.URL+"/events", nil)
	req.Host = "public.example.com"
	resp, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(resp.Body).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "data: first\n" {
			t.Fatalf("first line %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first chunk not delivered while the origin holds the response open")
	}
}

func TestWebSocketThroughProxy(t *testing.T) {
	upgrader := websocket.Upgrader{}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(access.HeaderUserEmail) != "ann@example.com" {
			http.Error(w, "no identity", http.StatusForbidden)
			return
		}
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			mt, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(mt, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	}))
	defer origin.Close()
	f := newFixture(t, origin.URL, nil)
	front := httptest.NewServer(f.h)
	defer front.Close()
	raw := appToken(t, f.keys, "ann@example.com", audDemo, nonceA, testNow, time.Hour)

	wsURL := "ws" + strings.TrimPrefix(front.URL, "http") + "/socket"
	t.Run("without a token", func(t *testing.T) {
		_, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Host": {"app.example.com"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("err %v resp %v, want a 302", err, resp)
		}
	})
	t.Run("with a token", func(t *testing.T) {
		hdr := http.Header{"Host": {"app.example.com"}, "Cookie": {access.CookieAuthorization + "=" + raw}}
		conn, resp, err := websocket.DefaultDialer.Dial(wsURL, hdr)
		if err != nil {
			t.Fatalf("dial: %v (resp %v)", err, resp)
		}
		defer conn.Close()
		if err := conn.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := conn.ReadMessage()
		if err != nil || string(msg) != "echo: hello" {
			t.Fatalf("read %q, %v", msg, err)
		}
	})
}
