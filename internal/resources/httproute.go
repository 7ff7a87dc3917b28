package resources

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// HTTPRoute publishes the instance through the Gateway spec.ingress.gatewayRef
// names, with what the Ingress would route: every host to the Service's HTTP
// port, and /websocket to the gevent port only when workers > 0 (in threaded
// mode 8069 serves websockets itself and nothing listens on 8072). The
// longest matching path prefix wins in the Gateway API, as in an Ingress. It
// returns nil when the instance has no gatewayRef.
func HTTPRoute(inst *odoov1alpha2.OdooInstance) *gatewayv1ac.HTTPRouteApplyConfiguration {
	spec := inst.Spec.Ingress
	if spec == nil || spec.GatewayRef == nil || len(spec.Hosts) == 0 {
		return nil
	}
	ns := spec.GatewayRef.Namespace
	if ns == "" {
		ns = inst.Namespace
	}
	hostnames := make([]gatewayv1.Hostname, 0, len(spec.Hosts))
	for _, h := range spec.Hosts {
		hostnames = append(hostnames, gatewayv1.Hostname(h))
	}
	rule := func(path string, port int32) *gatewayv1ac.HTTPRouteRuleApplyConfiguration {
		return gatewayv1ac.HTTPRouteRule().
			WithMatches(gatewayv1ac.HTTPRouteMatch().WithPath(gatewayv1ac.HTTPPathMatch().
				WithType(gatewayv1.PathMatchPathPrefix).WithValue(path))).
			WithBackendRefs(gatewayv1ac.HTTPBackendRef().
				WithGroup("").WithKind("Service").WithName(gatewayv1.ObjectName(WebName(inst))).WithPort(port))
	}
	var rules []*gatewayv1ac.HTTPRouteRuleApplyConfiguration
	if inst.Workers() > 0 {
		rules = append(rules, rule("/websocket", WebsocketPort))
	}
	rules = append(rules, rule("/", HTTPPort))
	return gatewayv1ac.HTTPRoute(WebName(inst), inst.Namespace).
		WithLabels(Labels(inst, ComponentWeb)).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(gatewayv1ac.HTTPRouteSpec().
			WithParentRefs(gatewayv1ac.ParentReference().
				WithGroup(gatewayv1.GroupName).WithKind("Gateway").
				WithNamespace(gatewayv1.Namespace(ns)).WithName(gatewayv1.ObjectName(spec.GatewayRef.Name))).
			WithHostnames(hostnames...).
			WithRules(rules...))
}
