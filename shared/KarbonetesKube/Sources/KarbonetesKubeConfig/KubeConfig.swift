public import Foundation
public import KarbonetesHTTPClient
public import KarbonetesTLS

/// Where the API server is and how to prove who we are, whichever way it was found
/// (in-cluster service account or a kubeconfig file), in the form the HTTP client takes.
public struct KubeConfig: Sendable, Hashable {
    /// `https://host:port`, possibly with a path prefix (a proxy in front of the API server).
    public var server: URL
    /// Nil only for a plain `http://` server (a local proxy such as `kubectl proxy`).
    public var tls: TLSClientConfiguration?
    public var authorization: HTTPAuthorization?
    /// The namespace the context or the service account names; `default` when neither does.
    public var namespace: String
    /// Where this came from (`in-cluster` or the kubeconfig path and context), for logs and
    /// error messages.
    public var source: String

    public init(
        server: URL, tls: TLSClientConfiguration?, authorization: HTTPAuthorization?, namespace: String = "default",
        source: String
    ) {
        self.server = server
        self.tls = tls
        self.authorization = authorization
        self.namespace = namespace
        self.source = source
    }

    /// The HTTP client configuration for this cluster, so that callers never assemble TLS and
    /// credentials themselves.
    public func httpClientConfiguration(
        userAgent: String = "karbonetes", requestTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10)
    ) -> HTTPClientConfiguration {
        HTTPClientConfiguration(
            baseURL: server, tls: tls, authorization: authorization, connectTimeout: connectTimeout,
            requestTimeout: requestTimeout, userAgent: userAgent)
    }
}
