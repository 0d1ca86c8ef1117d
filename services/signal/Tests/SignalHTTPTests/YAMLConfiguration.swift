import KarbonetesYAML
import SignalCore

/// Decodes config text the way `SignalApplication.loadConfiguration` decodes a file.
enum YAMLConfiguration {
    static func decode(_ text: String) throws -> SignalConfiguration {
        let configuration = try YAML.decode(SignalConfiguration.self, from: text)
        try configuration.validate()
        return configuration
    }
}
