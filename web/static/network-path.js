// Which network path a peer connection's media takes, read from getStats(): shared by the
// test-call page (shown, and reported in `echo_result`) and the call page (for diagnosis).

/// The network path of the candidate pair the browser selected, from getStats(): `udp` or
/// `tcp` straight to videoreg, or `turn_udp`, `turn_tcp`, `turn_tls` through a TURN relay;
/// null while none is selected.
export function pathOf(stats) {
  let pair = null;
  stats.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId) || pair;
  });
  // Browsers without `transport` stats: the nominated pair that works.
  if (!pair) stats.forEach((s) => { if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s; });
  const local = pair && stats.get(pair.localCandidateId);
  if (!local) return null;
  if (local.candidateType === "relay") {
    const via = String(local.relayProtocol || "udp").toLowerCase();
    return ["udp", "tcp", "tls"].includes(via) ? `turn_${via}` : "turn_udp";
  }
  return String(local.protocol || "udp").toLowerCase() === "tcp" ? "tcp" : "udp";
}
