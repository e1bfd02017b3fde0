package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// api is the embedded todo API: an in-memory store behind a bearer token.
type api struct {
	token string
	mu    sync.Mutex
	next  int
	todos map[int]Todo
}

func newAPI(token string) http.Handler {
	a := &api{token: token, next: 1, todos: map[int]Todo{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/todos", a.list)
	mux.HandleFunc("POST /api/todos", a.create)
	mux.HandleFunc("GET /api/todos/{id}", a.get)
	mux.HandleFunc("PATCH /api/todos/{id}", a.patch)
	mux.HandleFunc("DELETE /api/todos/{id}", a.delete)
	return a.auth(mux)
}

func (a *api) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+a.token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "bad token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []Todo{}
	for id := 1; id < a.next; id++ {
		t, ok := a.todos[id]
		if ok && (r.URL.Query().Get("done") == "" || strconv.FormatBool(t.Done) == r.URL.Query().Get("done")) {
			out = append(out, t)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	var t Todo
	if err := json.NewDecoder(r.Body).Decode(&t); err != nil || t.Title == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "title required"})
		return
	}
	a.mu.Lock()
	t.ID = a.next
	a.next++
	a.todos[t.ID] = t
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, t)
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	t, ok := a.todos[id(r)]
	a.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such todo"})
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (a *api) patch(w http.ResponseWriter, r *http.Request) {
	var p struct {
		Done *bool `json:"done"`
	}
	_ = json.NewDecoder(r.Body).Decode(&p)
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.todos[id(r)]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such todo"})
		return
	}
	if p.Done != nil {
		t.Done = *p.Done
	}
	a.todos[t.ID] = t
	writeJSON(w, http.StatusOK, t)
}

func (a *api) delete(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	delete(a.todos, id(r))
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func id(r *http.Request) int {
	n, _ := strconv.Atoi(r.PathValue("id"))
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
