/*
 * CareMap: draws a county map from its data document.
 *
 * care/maps.py build_map puts everything that differs from one map to the next (tiles, boundaries
 * and labels, village circles, person dots per group, legend, layer names, bounds, maximum zoom)
 * into one JSON document (the page's application/json script element "care-map-data"), and calls
 * CareMap.draw(map, data) from a script that is the same for every map. Every text in the
 * document that reaches innerHTML or a tooltip was made inert in Python (care.maps.leaflet_safe);
 * this file never builds markup from anything else.
 *
 * All layers are created synchronously: the map component registers its click handlers on the
 * layers present when draw returns.
 */
(function () {
    "use strict";

    function addTiles(map, tiles) {
        for (var i = 0; i < tiles.length; i++) {
            L.tileLayer(tiles[i].url, tiles[i].options).addTo(map);
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
        for (var i = 0; i < rows.length; i++) {
            var r = rows[i];
            var dot = L.circleMarker([r[0], r[1]], {
                radius: 5, color: "#ffffff", weight: 1, fillColor: r[2], fillOpacity: 0.9
            });
            dot.careRow = r;
            layer.addLayer(dot);
        }
        layer.bindTooltip(function (dot) {
            var r = dot.careRow, box = document.createElement("div");
            // r[4] and words[] are inert (leaflet_safe); r[3] is a number.
            box.innerHTML = "<b>" + r[4] + "</b><br>" + words[r[5]] + "<br><small>#" + r[3] + "</small>";
            return box;
        });
    }

    var DRAW = {shapes: drawShapes, villages: drawVillages, persons: drawPersons};

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
        addTiles(map, data.tiles || []);
        var control = L.control.layers({}, {}, {position: "topright", collapsed: false, autoZIndex: true});
        var layers = data.layers || [];
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
        addLegend(map, data.legend || "");
        control.addTo(map);
        if (data.bounds) {
            map.fitBounds(data.bounds);
        }
        return map;
    }

    window.CareMap = {draw: draw};
})();
