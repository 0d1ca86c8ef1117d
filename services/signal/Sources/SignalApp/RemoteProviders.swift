import SignalCore
import SignalProviders

extension ProviderFactory {
    /// The real providers' adapters. Secrets are named here (file or variable), read at each
    /// fetch, and never logged.
    func makeRemote(_ region: RegionConfiguration) throws -> any CarbonProvider {
        func required(_ value: String?, _ field: String) throws -> String {
            guard let value, !value.isEmpty else {
                throw SignalConfigurationError.invalid(
                    region: region.name, field: field, reason: "is required for provider \(region.provider)")
            }
            return value
        }
        func secret(file: String?, env: String?, fileField: String, envField: String) throws -> SecretSource {
            if let file, !file.isEmpty { return .file(path(file)) }
            if let env, !env.isEmpty { return .environment(env) }
            throw SignalConfigurationError.invalid(
                region: region.name, field: fileField,
                reason: "or \(envField) is required for provider \(region.provider)")
        }
        switch region.provider {
        case "electricitymaps":
            return try ElectricityMapsProvider(
                region: region.name, zone: try required(region.zone, "zone"),
                token: try secret(
                    file: region.tokenFile, env: region.tokenEnv, fileField: "tokenFile", envField: "tokenEnv"),
                baseURL: region.baseURL ?? ElectricityMapsProvider.defaultBaseURL,
                rule: try region.greenRule(fallback: .percentile(30)),
                environment: environment)
        case "watttime":
            return try WattTimeProvider(
                region: region.name, gridRegion: try required(region.region, "region"),
                username: try secret(
                    file: region.usernameFile, env: region.usernameEnv, fileField: "usernameFile",
                    envField: "usernameEnv"),
                password: try secret(
                    file: region.passwordFile, env: region.passwordEnv, fileField: "passwordFile",
                    envField: "passwordEnv"),
                baseURL: region.baseURL ?? WattTimeProvider.defaultBaseURL,
                rule: try region.greenRule(fallback: .percentile(30)),
                clock: clock, environment: environment)
        case "uk-carbon-intensity":
            return try UKCarbonIntensityProvider(
                region: region.name, baseURL: region.baseURL ?? UKCarbonIntensityProvider.defaultBaseURL,
                rule: region.green == nil ? nil : try region.greenRule(fallback: .percentile(30)))
        case "carbon-aware-sdk":
            return try CarbonAwareSDKProvider(
                region: region.name, location: try required(region.location, "location"),
                baseURL: try required(region.baseURL, "baseURL"),
                rule: try region.greenRule(fallback: .percentile(30)))
        default:
            throw SignalConfigurationError.invalid(
                region: region.name, field: "provider", reason: "\"\(region.provider)\" is not a known provider")
        }
    }
}
