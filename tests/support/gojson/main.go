// gojson decodes signed JSON the way the Go verifiers do (encoding/json into their structs), and
// prints what they bind to: the image digest(s) and, for Notary JWS, the protected content type
// and expiry.
// Standard library only; the struct shapes are written from the public definitions:
//   - cosign: github.com/sigstore/sigstore pkg/signature/payload SimpleContainerImage
//   - DSSE: github.com/secure-systems-lab/go-securesystemslib dsse.Envelope
//   - in-toto: github.com/in-toto/in-toto-golang in_toto.StatementHeader / Subject (v0.1, encoding/json)
//   - Notary: github.com/notaryproject/notation-core-go signature/jws jwsEnvelope and
//     jwsProtectedHeader, github.com/notaryproject/notation-go envelope.Payload (an OCI descriptor)
//
// usage: gojson KIND FILE   (KIND: simplesigning | dsse | notary)
// output: {"digests":[...],"cty":"...","expiry":"...","error":"..."}
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
)

type SimpleContainerImage struct {
	Critical Critical               `json:"critical"`
	Optional map[string]interface{} `json:"optional"`
}

type Critical struct {
	Identity Identity `json:"identity"`
	Image    Image    `json:"image"`
	Type     string   `json:"type"`
}

type Identity struct {
	DockerReference string `json:"docker-reference"`
}

type Image struct {
	DockerManifestDigest string `json:"docker-manifest-digest"`
}

type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"`
	Signatures  []Signature `json:"signatures"`
}

type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

type Statement struct {
	Type          string      `json:"_type"`
	PredicateType string      `json:"predicateType"`
	Subject       []Subject   `json:"subject"`
	Predicate     interface{} `json:"predicate"`
}

type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type JWS struct {
	Payload   string         `json:"payload"`
	Protected string         `json:"protected"`
	Header    UnprotectedJWS `json:"header"`
	Signature string         `json:"signature"`
}

type UnprotectedJWS struct {
	TimeStampSignature []byte   `json:"io.cncf.notary.timestampSignature,omitempty"`
	CertChain          [][]byte `json:"x5c"`
	SigningAgent       string   `json:"io.cncf.notary.signingAgent,omitempty"`
}

type ProtectedJWS struct {
	Algorithm     string   `json:"alg"`
	ContentType   string   `json:"cty"`
	SigningScheme string   `json:"io.cncf.notary.signingScheme"`
	SigningTime   string   `json:"io.cncf.notary.signingTime,omitempty"`
	Critical      []string `json:"crit,omitempty"`
	Expiry        string   `json:"io.cncf.notary.expiry,omitempty"`
}

type NotaryPayload struct {
	TargetArtifact Descriptor `json:"targetArtifact"`
}

type Descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

type result struct {
	Digests []string `json:"digests"`
	Cty     string   `json:"cty,omitempty"`
	Expiry  string   `json:"expiry,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func decode(kind string, b []byte) (result, error) {
	r := result{Digests: []string{}}
	switch kind {
	case "simplesigning":
		var p SimpleContainerImage
		if err := json.Unmarshal(b, &p); err != nil {
			return r, err
		}
		r.Digests = append(r.Digests, p.Critical.Image.DockerManifestDigest)
	case "dsse":
		var e Envelope
		if err := json.Unmarshal(b, &e); err != nil {
			return r, err
		}
		payload, err := base64.StdEncoding.DecodeString(e.Payload)
		if err != nil {
			return r, err
		}
		var s Statement
		if err := json.Unmarshal(payload, &s); err != nil {
			return r, err
		}
		for _, sub := range s.Subject {
			if d, ok := sub.Digest["sha256"]; ok {
				r.Digests = append(r.Digests, "sha256:"+d)
			}
		}
	case "notary":
		var j JWS
		if err := json.Unmarshal(b, &j); err != nil {
			return r, err
		}
		prot, err := base64.RawURLEncoding.DecodeString(j.Protected)
		if err != nil {
			return r, err
		}
		var h ProtectedJWS
		if err := json.Unmarshal(prot, &h); err != nil {
			return r, err
		}
		r.Cty = h.ContentType
		r.Expiry = h.Expiry
		payload, err := base64.RawURLEncoding.DecodeString(j.Payload)
		if err != nil {
			return r, err
		}
		var p NotaryPayload
		if err := json.Unmarshal(payload, &p); err != nil {
			return r, err
		}
		r.Digests = append(r.Digests, p.TargetArtifact.Digest)
	default:
		return r, fmt.Errorf("unknown kind %q", kind)
	}
	return r, nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gojson simplesigning|dsse|notary FILE")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r, err := decode(os.Args[1], b)
	if err != nil {
		r.Error = err.Error()
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}
