//! `sigaudit cluster` (`k8s`): the pods of a cluster, from its API or from `kubectl get pods -o
//! json` output; each distinct running digest verified once, as `sigaudit image` verifies it;
//! then every container reported with its workload, the digest it runs, that digest's status and
//! whether its tag has moved since.

use super::args::CommonArgs;
use super::audit::Audit;
use super::run::{self, ExitStatus, ReportSetup, Settings};
use anyhow::{Context, Result};
use clap::{Args, ValueHint};
use serde_json::{Map, Value};
use sigaudit::crawl::Event;
use sigaudit::k8s::api::{ApiClient, PodQuery};
use sigaudit::k8s::pods::{Pod, PodList, Selector};
use sigaudit::k8s::workloads::{Planned, TagRef, Target};
use sigaudit::k8s::{kubeconfig, owner, pull_secrets};
use sigaudit::registry::RegistryClient;
use sigaudit::report::workload::{WorkloadOwner, WorkloadReport};
use sigaudit::report::{ErrorReport, Status};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// Read the pods from `kubectl get pods -A -o json` output (a PodList, or a List of pods)
    /// instead of the API; `-` reads standard input. For audits away from the cluster.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub pods_file: Option<PathBuf>,
    /// The kubeconfig (default: the first file of KUBECONFIG, else ~/.kube/config; without one,
    /// the in-cluster service account when run in a pod).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Only the pods of this namespace (default: the context's namespace, else `default`, as
    /// kubectl; with --pods-file: every pod of the file).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// The pods of every namespace.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Only pods whose labels match this selector (`app=web,tier!=db`, as kubectl -l).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Pods per page of the API's list (`limit`; the rest is read with `continue`).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_size: u32,
    /// Also use the registry credentials of the cluster's pull secrets: each pod's
    /// imagePullSecrets and its service account's, of type kubernetes.io/dockerconfigjson or
    /// dockercfg (needs RBAC get on serviceaccounts and secrets). Off by default: sigaudit reads
    /// no secret unless asked.
    #[arg(long)]
    pub use_pull_secrets: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// What the scan said about each running digest and tag, gathered as events pass.
#[derive(Default)]
struct Seen {
    /// (registry, repository, digest) → status and whether a waiver accepts it.
    images: HashMap<(String, String, String), (Status, bool)>,
    /// (registry, repository, reference) → the error met.
    errors: HashMap<(String, String, String), String>,
}

impl Seen {
    fn observe(&mut self, e: &Event) {
        match e {
            Event::Image(i) => {
                let registry = i.registry.clone().unwrap_or_default();
                self.images.insert((registry, i.repository.clone(), i.digest.clone()), (i.status, i.waived.is_some()));
            }
            Event::Error(x) => {
                if let (Some(r), Some(repo), Some(reference)) = (&x.registry, &x.repository, &x.reference) {
                    self.errors
                        .insert((r.clone(), repo.clone(), reference.clone()), format!("[{}] {}", x.code, x.message));
                }
            }
            _ => {}
        }
    }
}

/// The tag of a spec resolved now: its digest, or None when the tag is gone.
type Drift = HashMap<TagRef, Result<Option<String>, String>>;

pub async fn run(
    a: ClusterArgs,
    mut settings: Map<String, Value>,
    config: Option<&std::path::Path>,
) -> Result<ExitStatus> {
    let s = Settings::from_args(&a.common, config)?;
    let audit = Audit::from_args(&a.common.report, &s.report, "cluster")?;
    settings.extend(s.implied.clone());
    let (pods, unreadable_pods, api, target) = pods(&a).await?;
    let mut planned = Vec::new();
    let mut owners: HashMap<(String, String, String), Option<WorkloadOwner>> = HashMap::new();
    for pod in &pods {
        let (owner, controlled_by) = workload_of(pod, api.as_ref(), &mut owners).await;
        planned.extend(sigaudit::k8s::workloads::plan(pod, &owner, controlled_by.as_deref()));
    }
    let credentials = match (&api, a.use_pull_secrets) {
        (Some(api), true) => pull_secrets::collect(api, &pods).await?,
        _ => HashMap::new(),
    };
    // Each distinct digest once, by registry.
    let mut by_host: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for p in &planned {
        if let Some(t) = &p.target {
            by_host.entry(t.host.clone()).or_default().insert((t.repository.clone(), t.digest.clone()));
        }
    }
    let tags: BTreeSet<TagRef> = planned.iter().filter_map(|p| p.tag.clone()).collect();
    let mut clients: Vec<(String, Arc<RegistryClient>)> = Vec::new();
    let mut unreachable: BTreeMap<String, String> = BTreeMap::new();
    let hosts: BTreeSet<&String> = by_host.keys().chain(tags.iter().map(|t| &t.host)).collect();
    for host in hosts {
        let own = (!s.has_flag_credentials()).then(|| credentials.get(host).cloned()).flatten();
        let client = s.client_for(host, a.common.plain_http, own, None).await?;
        match super::scan::ping(&client, host, &s.report).await {
            Ok(()) => clients.push((host.clone(), client)),
            Err(e) => {
                unreachable.insert(host.clone(), format!("{e:#}"));
            }
        }
    }
    let setup = ReportSetup {
        report: &s.report,
        kind: "cluster",
        target: Value::String(target.clone()),
        name: target,
        settings,
        hint: (!s.trust_given).then(|| super::scan::REGISTRY_HINT.to_string()),
        shard: None,
        merged: None,
        listing: None,
        requests: Some(super::scan::requests(clients.iter().map(|(_, c)| c.clone()).collect())),
        stop: None,
    };
    let drift: Arc<Mutex<Drift>> = Arc::default();
    let result: Arc<Mutex<Vec<WorkloadReport>>> = Arc::default();
    let outcome = run::with_writer(setup, |out| {
        let (settings, clients, audit) = (&s, &clients, &audit);
        let (drift, result) = (drift.clone(), result.clone());
        async move {
            let (itx, irx) = mpsc::channel::<Event>(1024);
            let unreachable_hosts = unreachable.clone();
            let forward = tokio::spawn(forward(irx, out, planned, unreachable_hosts, drift.clone(), result));
            audit
                .run(itx, move |tx| async move {
                    run::send_trust_notes(&tx, settings).await;
                    // A pod that could not be read could not be audited: the scan is incomplete.
                    for message in unreadable_pods {
                        let error = ErrorReport {
                            registry: None,
                            repository: None,
                            reference: None,
                            code: "pod-unreadable".into(),
                            message,
                        };
                        let _ = tx.send(Event::Error(error)).await;
                    }
                    for (host, message) in unreachable {
                        let error = ErrorReport {
                            registry: Some(host),
                            repository: None,
                            reference: None,
                            code: "registry-unreachable".into(),
                            message,
                        };
                        let _ = tx.send(Event::Error(error)).await;
                    }
                    let scans = clients.iter().map(|(host, client)| {
                        let refs: Vec<(String, String)> = by_host.get(host).into_iter().flatten().cloned().collect();
                        let scan = run::new_scan(client.clone(), settings, tx.clone());
                        let tx = tx.clone();
                        async move {
                            match scan {
                                Ok(scan) if !refs.is_empty() => scan.images(refs).await,
                                Ok(_) => {}
                                Err(e) => run::scan_not_started(&tx, client.host(), e).await,
                            }
                        }
                    });
                    let heads = tags.iter().filter_map(|t| {
                        let client = clients.iter().find(|(h, _)| *h == t.host)?.1.clone();
                        let drift = drift.clone();
                        Some(async move {
                            let now = match client.head_manifest(&t.repository, &t.tag).await {
                                Ok(head) => Ok(head.map(|h| h.digest.to_string())),
                                Err(e) => Err(e.to_string()),
                            };
                            drift.lock().expect("drift").insert(t.clone(), now);
                        })
                    });
                    futures::future::join(futures::future::join_all(scans), futures::future::join_all(heads)).await;
                })
                .await;
            let _ = forward.await;
        }
    })
    .await?;
    if s.stats {
        for (host, c) in &clients {
            run::print_stats(host, c);
        }
    }
    let workloads = result.lock().expect("workloads").clone();
    let failing = s.report.fail_on.iter().any(|st| workloads.iter().any(|w| w.status == Some(*st) && !w.waived));
    // `--fail-on` over the containers too (a waived image's containers are waived); it decides
    // before incompleteness, as for images. `--fail-on-new` compares with a baseline instead.
    let status = audit.exit_status(&s.report.fail_on, s.report.fail_on_expiring, &outcome);
    if failing && a.common.report.fail_on_new.is_empty() {
        return Ok(ExitStatus::PolicyFailure);
    }
    Ok(status)
}

/// Pass the scan's events on to the report, noting what they say about each digest; when the
/// scan is over (or stopped), every container with its verdict and drift, as the last event.
async fn forward(
    mut rx: mpsc::Receiver<Event>,
    out: mpsc::Sender<Event>,
    planned: Vec<Planned>,
    unreachable: BTreeMap<String, String>,
    drift: Arc<Mutex<Drift>>,
    result: Arc<Mutex<Vec<WorkloadReport>>>,
) {
    let mut seen = Seen::default();
    while let Some(e) = rx.recv().await {
        seen.observe(&e);
        if out.send(e).await.is_err() {
            return;
        }
    }
    // A running container whose image the runtime names in no way we can read could not be
    // examined: the scan is incomplete, as for an image whose lookups failed.
    for p in planned.iter().filter(|p| p.target.is_none() && p.report.status == Some(Status::Error)) {
        let w = &p.report;
        let error = ErrorReport {
            registry: None,
            repository: None,
            reference: Some(format!("pod {}/{} container {}", w.namespace, w.pod, w.container)),
            code: "image-id-unreadable".into(),
            message: w.notes.join("; "),
        };
        if out.send(Event::Error(error)).await.is_err() {
            return;
        }
    }
    let drift = drift.lock().expect("drift").clone();
    let workloads: Vec<WorkloadReport> = planned.into_iter().map(|p| judge(p, &seen, &unreachable, &drift)).collect();
    *result.lock().expect("workloads") = workloads.clone();
    let _ = out.send(Event::Workloads(workloads)).await;
}

/// A container's status: its running digest's, as `images` reports it; `error` when that could
/// not be looked at.
fn judge(p: Planned, seen: &Seen, unreachable: &BTreeMap<String, String>, drift: &Drift) -> WorkloadReport {
    let mut w = p.report;
    let Some(Target { host, repository, digest }) = p.target else { return w };
    match seen.images.get(&(host.clone(), repository.clone(), digest.clone())) {
        Some((status, waived)) => {
            w.status = Some(*status);
            w.waived = *waived;
        }
        None => {
            w.status = Some(Status::Error);
            let why = match (unreachable.get(&host), seen.errors.get(&(host.clone(), repository, digest))) {
                (Some(m), _) => format!("the registry could not be reached: {m}"),
                (None, Some(m)) => m.clone(),
                (None, None) => "not examined: the scan stopped before it".into(),
            };
            w.notes.push(format!("the running digest could not be verified: {why}"));
        }
    }
    if let (Some(tag), Some(running)) = (&p.tag, &w.digest) {
        match drift.get(tag) {
            Some(Ok(Some(now))) => {
                w.drift = Some(now != running);
                w.tag_digest = Some(now.clone());
            }
            Some(Ok(None)) => {
                w.drift = Some(true);
                w.notes.push(format!("the tag {} is gone from {}/{}", tag.tag, tag.host, tag.repository));
            }
            Some(Err(e)) => w.notes.push(format!("the tag {} could not be resolved for the drift check: {e}", tag.tag)),
            None => {}
        }
    }
    w
}

/// The pods: from the file, or listed through the API; with the API client (live) and what the
/// report names as the scan's target.
async fn pods(a: &ClusterArgs) -> Result<(Vec<Pod>, Vec<String>, Option<ApiClient>, String)> {
    if let Some(path) = &a.pods_file {
        // Options of the API have nothing to act on: said, not silently dropped.
        for (given, flag) in [
            (a.kubeconfig.is_some(), "--kubeconfig"),
            (a.context.is_some(), "--context"),
            (a.use_pull_secrets, "--use-pull-secrets (pull secrets are read through the API)"),
        ] {
            if given {
                tracing::warn!("{flag} is not used with --pods-file: there is no API to ask");
            }
        }
        let selector = a.selector.as_deref().map(Selector::parse).transpose()?;
        let name = path.display().to_string();
        let text = if name == "-" {
            let mut t = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut t).context("reading pods from standard input")?;
            t
        } else {
            std::fs::read_to_string(path).with_context(|| format!("--pods-file {name}"))?
        };
        let list = PodList::parse(&text).map_err(|e| anyhow::anyhow!("--pods-file {name}: {e}"))?;
        let pods: Vec<Pod> = list
            .items
            .into_iter()
            .filter(|p| a.namespace.as_deref().is_none_or(|ns| p.namespace() == ns))
            .filter(|p| selector.as_ref().is_none_or(|s| s.matches(&p.metadata.labels)))
            .collect();
        return Ok((pods, list.unreadable, None, format!("pods-file:{name}")));
    }
    let conn = kubeconfig::connection(a.kubeconfig.as_deref(), a.context.as_deref())?;
    let namespace = match (a.all_namespaces, &a.namespace) {
        (true, _) => None,
        (false, Some(ns)) => Some(ns.clone()),
        (false, None) => Some(conn.namespace.clone().unwrap_or_else(|| "default".into())),
    };
    let target = format!(
        "{}{}",
        conn.server.as_str().trim_end_matches('/'),
        match &namespace {
            Some(ns) => format!(" namespace {ns}"),
            None => " all namespaces".into(),
        }
    );
    let timeout = std::time::Duration::from_secs(a.common.timeout.max(1));
    let api = ApiClient::new(conn, timeout)?;
    let q = PodQuery { namespace, label_selector: a.selector.clone(), chunk_size: a.chunk_size };
    let (pods, unreadable) = api.list_pods(&q).await.context("listing pods")?;
    Ok((pods, unreadable, Some(api), target))
}

/// The workload of a pod: with the API, a ReplicaSet's or Job's own controller is read (once
/// each); else, or when that fails, taken from the names.
async fn workload_of(
    pod: &Pod,
    api: Option<&ApiClient>,
    cache: &mut HashMap<(String, String, String), Option<WorkloadOwner>>,
) -> (WorkloadOwner, Option<String>) {
    let by_name = owner::by_name(&pod.metadata);
    let (Some(api), Some(c)) = (api, pod.metadata.controller()) else { return by_name };
    if !matches!(c.kind.as_str(), "ReplicaSet" | "Job") {
        return by_name;
    }
    let key = (c.kind.clone(), pod.namespace().to_string(), c.name.clone());
    if !cache.contains_key(&key) {
        let found = match api.owner_meta(&c.kind, pod.namespace(), &c.name).await {
            Ok(Some(meta)) => Some(owner::from_api(c, &meta).unwrap_or_else(|| owner::own(c))),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("{e}: the owner of {} {} is taken from its name", c.kind, c.name);
                None
            }
        };
        cache.insert(key.clone(), found);
    }
    match cache.get(&key).cloned().flatten() {
        Some(o) if o.kind == c.kind && o.name == c.name => (o, None),
        Some(o) => (o, Some(format!("{}/{}", c.kind, c.name))),
        None => by_name,
    }
}
