"""The Heat templates the e2e layer creates on the real data plane (#17 acceptance), and what
is left of a stack's resources on the host once it is deleted."""

from __future__ import annotations

import subprocess

# An application: a network with a router to `public`, a security group for SSH and the web
# page, two servers with user data (web behind a floating IP, db with a volume attached that
# its user data looks for by serial) and a container. ``image`` comes from --parameter, the
# flavor and CIDR from the environment file.
APP = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  flavor: {type: string}
  cidr: {type: string}
  key: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: {get_param: cidr}}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: public}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  sg:
    type: OS::Neutron::SecurityGroup
    properties:
      rules:
        - {protocol: tcp, port_range_min: 80, port_range_max: 80, remote_ip_prefix: 0.0.0.0/0}
        - {protocol: tcp, port_range_min: 22, port_range_max: 22, remote_ip_prefix: 0.0.0.0/0}
  web_port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}}]
      security_groups: [{get_resource: sg}]
  web:
    type: OS::Nova::Server
    depends_on: iface
    properties:
      name: heat-web
      image: {get_param: image}
      flavor: {get_param: flavor}
      key_name: {get_param: key}
      networks: [{port: {get_resource: web_port}}]
      user_data_format: RAW
      user_data: |
        #!/bin/sh
        echo "stack-user-data-ran $(hostname)" > /dev/console
  db:
    type: OS::Nova::Server
    depends_on: iface
    properties:
      name: heat-db
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks: [{network: {get_resource: net}}]
      security_groups: [{get_resource: sg}]
      user_data_format: RAW
      user_data:
        str_replace:
          params: {VOLUME_ID: {get_resource: data}}
          template: |
            #!/bin/sh
            echo "stack-user-data-ran $(hostname)" > /dev/console
            serial=$(echo VOLUME_ID | cut -c1-20)
            (
            while true; do
              for d in /sys/block/vd*; do
                if [ "$(cat "$d/serial" 2> /dev/null)" = "$serial" ]; then
                  echo "stack-volume-seen $(basename "$d") $(cat "$d/size")" > /dev/console
                  exit 0
                fi
              done
              sleep 1
            done
            ) &
  fip:
    type: OS::Neutron::FloatingIP
    depends_on: iface
    properties: {floating_network: public, port_id: {get_resource: web_port}}
  data:
    type: OS::Cinder::Volume
    properties: {size: 1}
  attach:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: db}, volume_id: {get_resource: data}}
  bucket:
    type: OS::Swift::Container
outputs:
  fip: {value: {get_attr: [fip, floating_ip_address]}}
  web: {value: {get_resource: web}}
  db: {value: {get_resource: db}}
  volume: {value: {get_resource: data}}
  container: {value: {get_resource: bucket}}
  net: {value: {get_resource: net}}
  router: {value: {get_resource: router}}
"""

APP_ENV = """
parameters:
  flavor: m1.tiny
parameter_defaults:
  cidr: 10.46.0.0/24
"""


def short_id(resource_id: str) -> str:
    """The 11 hex characters the linuxbridge driver names a resource's devices by."""
    return resource_id.replace("-", "").lower()[:11]


def host_leftovers(prefix: str, ids: list[str]) -> list[str]:
    """Links and namespaces of ``prefix`` that name one of ``ids`` (networks, routers, ports)."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    found = [
        f"link {n}" for n in names if n.startswith(prefix) and n[len(prefix) + 1 :] in
        {short_id(i) for i in ids}
    ]  # fmt: skip
    found += [
        f"netns {n.split()[0]}"
        for n in netns.splitlines()
        if n.startswith(f"{prefix}-") and any(i in n for i in ids)
    ]
    return found


# An autoscaling group of test-image servers on the project's network whose members carry
# metering.server_group (the stack's id), a policy up and one down, and two alarms on the
# group's mean CPU rate (ns of vCPU per second, 1 s points) calling their webhooks. The alarms
# are armed (``armed``) once the first member has booted: a booting TCG guest burns its vCPU.
# The first member's user data idles BURN_AFTER seconds (the alarms are armed meanwhile), then
# burns its vCPU for BURN_FOR seconds in a busybox loop, and stops. Arming also gives the
# members' definition idle user data, ignored by the running member (user_data_update_policy
# IGNORE: no replacement) and run by the member the group grows by, whose load is its boot.
# The load is not started over SSH: the first login makes the guest generate dropbear's host
# key (-R) and run the key exchange under TCG, a burst of its vCPU seconds before the alarms
# were armed, which (a mixed window leaves "insufficient data" by its last point, as Aodh's)
# could grow the group at arming and the low alarm then shrink it by its oldest member.
BURN_AFTER, BURN_FOR = 20, 20
SCALING = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  armed: {type: boolean, default: false}
conditions:
  armed: {equals: [{get_param: armed}, true]}
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 2
      resource:
        type: OS::Nova::Server
        properties:
          image: {get_param: image}
          flavor: m1.tiny
          networks: [{network: private}]
          metadata: {metering.server_group: {get_param: "OS::stack_id"}}
          user_data_format: RAW
          user_data_update_policy: IGNORE
          user_data:
            if:
              - armed
              - "#!/bin/sh\necho autoscale-member-idle > /dev/console\n"
              - |
                #!/bin/sh
                (sleep BURN_AFTER; echo autoscale-burn-start > /dev/console
                 sh -c 'while :; do :; done' & pid=$!
                 sleep BURN_FOR; kill $pid; echo autoscale-burn-end > /dev/console
                ) < /dev/null > /dev/null 2>&1 &
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: change_in_capacity
      scaling_adjustment: 1
      cooldown: 0
  down:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: change_in_capacity
      scaling_adjustment: -1
      cooldown: 0
  cpu_high:
    type: OS::Aodh::GnocchiAggregationByResourcesAlarm
    properties:
      enabled: {get_param: armed}
      repeat_actions: false
      metric: cpu
      aggregation_method: rate:mean
      granularity: 1
      evaluation_periods: 3
      resource_type: instance
      query:
        str_replace:
          template: '{"=": {"server_group": "GROUP"}}'
          params: {GROUP: {get_param: "OS::stack_id"}}
      comparison_operator: gt
      threshold: 200000000
      alarm_actions: [{get_attr: [up, alarm_url]}]
  cpu_low:
    type: OS::Aodh::GnocchiAggregationByResourcesAlarm
    properties:
      enabled: {get_param: armed}
      repeat_actions: false
      metric: cpu
      aggregation_method: rate:mean
      granularity: 1
      evaluation_periods: 4
      resource_type: instance
      query:
        str_replace:
          template: '{"=": {"server_group": "GROUP"}}'
          params: {GROUP: {get_param: "OS::stack_id"}}
      comparison_operator: lt
      threshold: 80000000
      alarm_actions: [{get_attr: [down, alarm_url]}]
outputs:
  size: {value: {get_attr: [asg, current_size]}}
  refs: {value: {get_attr: [asg, refs]}}
""".replace("BURN_AFTER", str(BURN_AFTER)).replace("BURN_FOR", str(BURN_FOR))
