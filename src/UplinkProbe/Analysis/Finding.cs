namespace UplinkProbe.Analysis;

public enum FindingSeverity
{
    Info,
    Warning,
    Error,
}

/// <summary>Where in the captures a finding can be checked: a file and frame numbers to open in Wireshark.</summary>
public sealed record Evidence(string File, string? Node, IReadOnlyList<long> Frames, string? Note = null)
{
    public override string ToString()
    {
        string frames = Frames.Count == 0 ? string.Empty
            : Frames.Count <= 6 ? " frames " + string.Join(",", Frames)
            : $" frames {string.Join(",", Frames.Take(5))},… ({Frames.Count})";
        return $"{System.IO.Path.GetFileName(File)}{frames}{(Note is null ? string.Empty : " — " + Note)}";
    }
}

/// <summary>
/// Something a person can act on. <see cref="Id"/> is stable snake_case (documented in docs/findings.md) so that
/// scripts can match on it; <see cref="Message"/> is one line.
/// </summary>
public sealed record Finding(string Id, FindingSeverity Severity, string Message, IReadOnlyList<Evidence> Evidence, long? AtNs = null, string? Subject = null);

/// <summary>The finding IDs UplinkProbe emits.</summary>
public static class FindingIds
{
    public const string TwoHostsEmitGatewayMac = "two_hosts_emit_gateway_mac";
    public const string GatewayMoved = "gateway_moved";
    public const string GarpBurstIncomplete = "garp_burst_incomplete";
    public const string NoGarpAfterMove = "no_garp_after_move";
    public const string IpClaimedByTwoMacs = "ip_claimed_by_two_macs";
    public const string MacFlipFlop = "mac_flip_flop";
    public const string ControlPlaneDisagrees = "control_plane_disagrees";
    public const string TunnelOneWay = "tunnel_one_way";
    public const string NoTunnelTrafficToGateway = "no_tunnel_traffic_to_gateway";
    public const string BfdSessionDown = "bfd_session_down";
    public const string GeneveNearMtu = "geneve_near_mtu";
    public const string NoDirection = "capture_without_direction";
    public const string UnexpectedGatewayEmitter = "gateway_mac_from_non_candidate";
}
