import SignalCore

extension ProviderFactory {
    func makeRemote(_ region: RegionConfiguration) throws -> any CarbonProvider {
        throw SignalConfigurationError.invalid(region: region.name, field: "provider", reason: "\(region.provider) is not available yet")
    }
}
