public import KarbonetesModels

/// Where admission learns whether a region is green: a cached client of the signal service
/// in production (no signal call per request in the steady state).
public protocol SignalSource: Sendable {
    func reading(region: String) async -> SignalReading
}
