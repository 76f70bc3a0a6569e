#!/usr/bin/env python3
"""Create, in an ECR emulator (moto in server mode on 127.0.0.1), the repositories and images a
test registry holds under a namespace, through the ECR API itself (boto3: CreateRepository,
PutImage with each tag's manifest bytes, media type and digest, as read from the registry over
the distribution protocol). The scanner then lists them with DescribeRepositories and
DescribeImages, and reads manifests and signatures from the registry.

usage: ecr_seed.py ENDPOINT REGISTRY NAMESPACE   (prints the number of repositories and tags)
"""
import http.client, json, sys

import boto3

endpoint, registry, ns = sys.argv[1], sys.argv[2], sys.argv[3].strip("/")
ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def get(path):
    c = http.client.HTTPConnection(registry, timeout=30)
    c.request("GET", path, headers={"Accept": ACCEPT})
    r = c.getresponse()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()


ecr = boto3.client("ecr", endpoint_url=endpoint, region_name="eu-west-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
catalog, page = [], "/v2/_catalog?n=100"
while page:
    status, headers, body = get(page)
    assert status == 200, body
    catalog += json.loads(body)["repositories"]
    link = headers.get("link", "")
    page = link[link.index("<") + 1:link.index(">")] if 'rel="next"' in link else None
repos = tags = 0
for repo in catalog:
    if not repo.startswith(ns + "/"):
        continue
    ecr.create_repository(repositoryName=repo)
    repos += 1
    status, _, body = get(f"/v2/{repo}/tags/list")
    for tag in (json.loads(body).get("tags") or []) if status == 200 else []:
        status, headers, manifest = get(f"/v2/{repo}/manifests/{tag}")
        assert status == 200, (repo, tag, status)
        ecr.put_image(repositoryName=repo, imageManifest=manifest.decode(), imageTag=tag,
                      imageManifestMediaType=headers["content-type"].split(";")[0],
                      imageDigest=headers["docker-content-digest"])
        tags += 1
print(repos, tags)
