/*
 * CareMap: draws a county map from its data document.
 *
 * care/maps.py build_map puts everything that differs from one map to the next (tiles, boundaries
 * and labels, village circles, person dots per group (a household's members at one place drawn as
 * one marker), legend, layer names, bounds or the notice of a
 * map without them, maximum zoom) into one JSON document (the page's application/json script
 * element "care-map-data"), and calls
 * CareMap.draw(map, data) from a script that is the same for every map. Every text in the
 * document that reaches innerHTML or a tooltip was made inert in Python (care.maps.leaflet_safe);
 * this file never builds markup from anything else.
 *
 * All layers are created synchronously: the map component registers its click handlers on the
 * layers present when draw returns.
 */
(function () {
    "use strict";

    function tilesFailed(map, basemap) {
        if (map.careTilesFailed || !basemap) {
            return;
        }
        var notice = L.control({position: "bottomleft"});
        notice.onAdd = function () {
            var div = L.DomUtil.create("div", "care-basemap care-basemap-failed");
            // A catalog text and the configured tile hosts, made inert in Python (leaflet_safe).
            div.innerHTML = basemap.failed;
            return div;
        };
        map.careTilesFailed = notice.addTo(map);
    }

    function addTiles(map, tiles, basemap) {
        for (var i = 0; i < tiles.length; i++) {
            var layer = L.tileLayer(tiles[i].url, tiles[i].options);
            // A grey map without a word is what an intranet sees when the tiles cannot load.
            layer.on("tileerror", function () { tilesFailed(map, basemap); });
            layer.addTo(map);
        }
    }

    function drawShapes(layer, spec) {
        L.geoJSON(spec.shapes, {
            interactive: false,
            style: function (f) { return f.properties.style; }
        }).addTo(layer);
        var labels = spec.labels;
        for (var i = 0; i < labels.length; i++) {
            var l = labels[i];
            // l[2] is inert (leaflet_safe); a divIcon marker, not a tooltip: tooltips placed before
            // the component iframe is sized stay where they were first put.
            L.marker([l[0], l[1]], {
                interactive: false,
                keyboard: false,
                icon: L.divIcon({
                    className: "care-label care-label-" + l[3],
                    html: l[2],
                    iconSize: [120, 18],
                    iconAnchor: [60, 9]
                })
            }).addTo(layer);
        }
    }

    function drawVillages(layer, spec) {
        var rows = spec.rows;
        for (var i = 0; i < rows.length; i++) {
            var r = rows[i];
            var dot = L.circleMarker([r[0], r[1]], {
                radius: r[2], color: "#343a40", weight: 1, fillColor: r[3], fillOpacity: 0.75
            });
            dot.careRow = r;
            layer.addLayer(dot);
        }
        layer.bindTooltip(function (dot) {
            var box = document.createElement("div");
            // r[4] was built from leaflet_safe pieces in Python.
            box.innerHTML = dot.careRow[4];
            return box;
        });
    }

    function drawPersons(layer, spec, data) {
        var rows = spec.rows;
        var words = data.words;
        var shared = data.careHomes;
        for (var i = 0; i < rows.length; i++) {
            var r = rows[i];
            if (r[6] >= 0) {
                // One of a household's dots at one place: drawn once for all of them (placeHomes).
                shared[r[6]].members.push({row: r, layer: layer});
                continue;
            }
            var dot = L.circleMarker([r[0], r[1]], {
                radius: 5, color: "#ffffff", weight: 1, fillColor: r[2], fillOpacity: 0.9
            });
            dot.careRow = r;
            layer.addLayer(dot);
        }
        layer.bindTooltip(function (dot) {
            var box = document.createElement("div");
            if (dot.careHome) {
                box.innerHTML = homeText(dot.careHome, words);
                return box;
            }
            var r = dot.careRow;
            // r[4] and words[] are inert (leaflet_safe); r[3] is a number.
            box.innerHTML = "<b>" + r[4] + "</b><br>" + words[r[5]] + "<br><small>#" + r[3] + "</small>";
            return box;
        });
    }

    function homeText(home, words) {
        // spec[0] (title) and every r[4] and words[] are inert (leaflet_safe); spec[1] is "#" or
        // "\u2302#" and a number, made in Python.
        var spec = home.spec, rows = home.rows, many = spec[2] > 1, text = "<b>" + spec[0] + "</b>";
        for (var i = 0; i < rows.length; i++) {
            text += "<br>" + (many ? rows[i][4] + " · " : "") + words[rows[i][5]];
        }
        return text + "<br><small>" + spec[1] + "</small>";
    }

    function newHomes(specs) {
        var homes = [];
        for (var i = 0; i < specs.length; i++) {
            var many = specs[i][2] > 1;
            homes.push({spec: specs[i], members: [], parent: null, dot: null, many: many});
        }
        return homes;
    }

    // A household's marker, drawn in the layer of its first switched-on member, coloured by the
    // worst of its switched-on members, listing them; gone when none of its groups is on.
    function placeHomes(map, homes) {
        for (var i = 0; i < homes.length; i++) {
            var h = homes[i], shown = [], worst = null, parent = null;
            for (var j = 0; j < h.members.length; j++) {
                var m = h.members[j];
                if (!map.hasLayer(m.layer)) {
                    continue;
                }
                shown.push(m.row);
                parent = parent || m.layer;
                if (worst === null || m.row[7] < worst[7]) {
                    worst = m.row;
                }
            }
            if (h.parent) {
                h.parent.removeLayer(h.dot);
                h.parent = null;
            }
            if (!shown.length) {
                continue;
            }
            if (!h.dot) {
                var first = h.members[0].row;
                h.dot = L.circleMarker([first[0], first[1]], h.many
                    ? {radius: 7, color: "#212529", weight: 2, fillColor: worst[2], fillOpacity: 0.95}
                    : {radius: 5, color: "#ffffff", weight: 1, fillColor: worst[2], fillOpacity: 0.9});
            }
            h.dot.setStyle({fillColor: worst[2]});
            h.dot.careHome = {spec: h.spec, rows: shown};
            parent.addLayer(h.dot);
            h.parent = parent;
        }
    }

    function drawMarks(layer, spec) {
        var rows = spec.rows;
        for (var i = 0; i < rows.length; i++) {
            var r = rows[i];
            // Not interactive: a click on a mark places the location there, like any click on the map.
            var dot = L.circleMarker([r[0], r[1]], {
                radius: 8, color: "#ffffff", weight: 2, fillColor: r[2], fillOpacity: 0.95, interactive: false
            });
            // r[3] is inert (leaflet_safe).
            // r[4]: which side the label goes, so that two nearby marks do not cover each other.
            var right = r[4] === "right";
            dot.bindTooltip(r[3], {permanent: true, direction: r[4], offset: [right ? 10 : -10, 0]});
            layer.addLayer(dot);
        }
    }

    var DRAW = {shapes: drawShapes, villages: drawVillages, persons: drawPersons, marks: drawMarks};

    function addNotice(map, html) {
        var notice = L.control({position: "bottomleft"});
        notice.onAdd = function () {
            var div = L.DomUtil.create("div", "care-basemap care-notice");
            // A catalog text, made inert in Python (leaflet_safe).
            div.innerHTML = html;
            return div;
        };
        notice.addTo(map);
    }

    function addLegend(map, html) {
        var legend = L.control({position: "bottomright"});
        legend.onAdd = function () {
            var div = L.DomUtil.create("div", "care-legend");
            // Catalog texts and colours only, escaped in Python all the same.
            div.innerHTML = html;
            return div;
        };
        legend.addTo(map);
    }

    function draw(map, data) {
        if (data.maxZoom) {
            map.setMaxZoom(data.maxZoom);
        }
        // The view first: tiles added at the common world-level start would be fetched for nothing.
        // No bounds: nothing in view has a place, and the map stays on the world and says so.
        if (data.bounds) {
            map.fitBounds(data.bounds);
        } else if (data.notice) {
            addNotice(map, data.notice);
        }
        addTiles(map, data.tiles || [], data.basemap);
        var control = L.control.layers({}, {}, {position: "topright", collapsed: false, autoZIndex: true});
        var layers = data.layers || [];
        var homes = newHomes(data.homes || []);
        data.careHomes = homes;
        for (var i = 0; i < layers.length; i++) {
            var spec = layers[i], paint = DRAW[spec.kind];
            if (!paint) {
                continue;
            }
            var layer = L.featureGroup();
            paint(layer, spec, data);
            layer.addTo(map);
            // spec.name is inert (leaflet_safe): the control writes it with innerHTML.
            control.addOverlay(layer, spec.name);
        }
        if (homes.length) {
            placeHomes(map, homes);
            // A group switched off or on in the layer control: each household marker is redrawn
            // for the members still shown.
            map.on("overlayadd overlayremove", function () { placeHomes(map, homes); });
        }
        addLegend(map, data.legend || "");
        control.addTo(map);
        return map;
    }

    window.CareMap = {draw: draw};
})();
