package engine

import "os"

func osGetpid() int { return os.Getpid() }

func osHostname() (string, error) { return os.Hostname() }
