import EndToEndKit
import Testing

/// The whole suite, one scenario at a time: every scenario starts its own API server,
/// signal service, webhook and controllers on loopback ports, and the machine has two cores.
/// `KARBONETES_E2E_APISERVER=envtest` runs the same scenarios against a real kube-apiserver.
@Suite("End to end on the real binaries", .serialized, .timeLimit(.minutes(2)))
enum EndToEnd {}
