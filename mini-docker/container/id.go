// Package container is mini-docker's record of a container: its 64-hex
// ID, its Docker-style name, and its state folder <root>/containers/<id>/
// holding state.json (Docker's inspect shape), the log, and the generated
// /etc files. Writes are atomic (write a temporary file, rename it over
// the old one) and serialised by file locks (flock), so concurrent
// mini-docker commands and the monitors of detached containers never see
// a half-written state.
//
// Lesson 09 (lessons/09-mini-docker.md) teaches it.
package container

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"sync"
)

// NewID returns a fresh container ID: 32 random bytes as 64 hex digits,
// like Docker's. The first 12 digits are the short ID, the hostname and
// the name of the network namespace.
func NewID() string {
	for {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			panic(err) // crypto/rand never fails on Linux
		}
		id := hex.EncodeToString(b)
		// Docker avoids IDs whose short form is all digits, since they
		// would read as numbers (a PID, say) in ps output.
		if !allDigits(id[:12]) {
			return id
		}
	}
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ShortID returns the first 12 characters of id.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// validName is the rule Docker applies to --name.
var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`) })

// CheckName returns Docker's error for a name --name does not accept.
func CheckName(name string) error {
	if !validName().MatchString(name) {
		//lint:ignore ST1005 Docker's own words, as docker prints them
		return fmt.Errorf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	return nil
}

// Adjectives and scientists Docker's names generator picks from (a
// subset of moby's pkg/namesgenerator).
var (
	left = []string{
		"admiring", "adoring", "affectionate", "agitated", "amazing", "angry",
		"awesome", "beautiful", "blissful", "bold", "boring", "brave", "busy",
		"charming", "clever", "compassionate", "competent", "condescending",
		"confident", "cool", "cranky", "crazy", "dazzling", "determined",
		"distracted", "dreamy", "eager", "ecstatic", "elastic", "elated",
		"elegant", "eloquent", "epic", "exciting", "fervent", "festive",
		"flamboyant", "focused", "friendly", "frosty", "funny", "gallant",
		"gifted", "goofy", "gracious", "great", "happy", "hardcore",
		"heuristic", "hopeful", "hungry", "infallible", "inspiring",
		"intelligent", "interesting", "jolly", "jovial", "keen", "kind",
		"laughing", "loving", "lucid", "magical", "modest", "musing",
		"mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic",
		"objective", "optimistic", "peaceful", "pedantic", "pensive",
		"practical", "priceless", "quirky", "quizzical", "recursing",
		"relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly",
		"sleepy", "stoic", "strange", "stupefied", "suspicious", "sweet",
		"tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant",
		"vigilant", "vigorous", "wizardly", "wonderful", "xenodochial",
		"youthful", "zealous", "zen",
	}
	right = []string{
		"agnesi", "albattani", "allen", "almeida", "archimedes", "ardinghelli",
		"babbage", "banach", "bardeen", "bartik", "bassi", "bell", "bhabha",
		"blackwell", "bohr", "booth", "borg", "bose", "brahmagupta", "brown",
		"carson", "cerf", "chandrasekhar", "clarke", "curie", "darwin",
		"davinci", "diffie", "dijkstra", "einstein", "elion", "engelbart",
		"euclid", "euler", "faraday", "fermat", "fermi", "feynman", "franklin",
		"galileo", "gates", "goldberg", "goldstine", "goodall", "hamilton",
		"hawking", "heisenberg", "hellman", "hermann", "hodgkin", "hopper",
		"hypatia", "jackson", "jang", "jennings", "johnson", "kalam", "kepler",
		"khorana", "kilby", "knuth", "kowalevski", "lamarr", "lamport",
		"leakey", "lovelace", "lumiere", "mayer", "mccarthy", "mclean",
		"meitner", "mendel", "merkle", "mirzakhani", "morse", "napier",
		"newton", "nobel", "noether", "pare", "pascal", "pasteur", "payne",
		"perlman", "pike", "poincare", "ptolemy", "raman", "ramanujan",
		"ritchie", "rosalind", "sammet", "shamir", "shannon", "shockley",
		"sinoussi", "stonebraker", "swanson", "tesla", "thompson", "torvalds",
		"turing", "varahamihira", "visvesvaraya", "wiles", "williams",
		"wilson", "wozniak", "wright", "yalow", "yonath",
	}
)

// RandomName returns a name like Docker gives a container run without
// --name: adjective_scientist, with a digit appended on retry (retry > 0).
func RandomName(retry int) string {
	pick := func(list []string) string {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
		if err != nil {
			panic(err)
		}
		return list[n.Int64()]
	}
	name := pick(left) + "_" + pick(right)
	if name == "boring_wozniak" { // Steve Wozniak is not boring (moby's rule)
		return RandomName(retry)
	}
	if retry > 0 {
		n, _ := rand.Int(rand.Reader, big.NewInt(10))
		name += n.String()
	}
	return name
}
